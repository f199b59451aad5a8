"""A PostgreSQL database read the way tests read SQLite: create_database() makes a fresh one,
Connection offers sqlite3's execute / fetchone / fetchall / commit over `psql`, so a test that
checks rows in chatd's database runs unchanged on either backend. Standard library only."""
import csv
import io
import re
import shutil
import subprocess

NULL = "\x01NULL\x01"
INTEGER = re.compile(r"-?\d+")
REAL = re.compile(r"-?\d+\.\d+(e[-+]?\d+)?", re.I)


def psql_path():
    for candidate in (shutil.which("psql"), "/usr/bin/psql"):
        if candidate:
            return candidate
    raise RuntimeError("psql not found; install the Debian package postgresql-client")


def psql(url, sql, *extra):
    r = subprocess.run([psql_path(), "-X", "-q", "-v", "ON_ERROR_STOP=1", "-d", url, *extra, "-c", sql],
                       capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL)
    if r.returncode != 0:
        raise RuntimeError(f"psql failed on {sql!r}: {r.stderr.strip()}")
    return r.stdout


def create_database(server_url, name):
    """Creates database `name` on the server of `server_url` (…/postgres); returns its URL."""
    psql(server_url, f'CREATE DATABASE "{name}"')
    return server_url[:server_url.rfind("/") + 1] + name


def literal(value):
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "1" if value else "0"
    if isinstance(value, (int, float)):
        return repr(value)
    return "'" + str(value).replace("'", "''") + "'"


def bind(sql, params):
    """sqlite3's ? placeholders (outside quoted text) replaced by literals."""
    out, values, quoted = [], list(params), False
    for ch in sql:
        if ch == "'":
            quoted = not quoted
        if ch == "?" and not quoted:
            out.append(literal(values.pop(0)))
        else:
            out.append(ch)
    if values:
        raise ValueError("more parameters than placeholders")
    return "".join(out)


def typed(text):
    if text == NULL:
        return None
    if INTEGER.fullmatch(text):
        return int(text)
    if REAL.fullmatch(text):
        return float(text)
    return text


class Cursor:
    def __init__(self, rows):
        self.rows = rows

    def fetchone(self):
        return self.rows.pop(0) if self.rows else None

    def fetchall(self):
        rows, self.rows = self.rows, []
        return rows

    def __iter__(self):
        return iter(self.fetchall())


class Connection:
    """Each statement commits on its own (psql's autocommit); commit() has nothing left to do."""

    def __init__(self, url):
        self.url = url

    def execute(self, sql, params=()):
        out = psql(self.url, bind(sql, params), "--csv", "-P", f"null={NULL}")
        rows = list(csv.reader(io.StringIO(out)))
        return Cursor([tuple(typed(v) for v in row) for row in rows[1:]])

    def commit(self):
        pass

    def close(self):
        pass

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        return False
