#!/usr/bin/env python3
"""A private, throw-away PostgreSQL server for tests.

    with PgServer() as pg:
        url = pg.create_database("chatd_test")
        print(pg.psql(url, "select 1"))

The cluster lives in a temporary directory and listens on a free loopback port (and a unix
socket in the same directory); stop() kills it and removes the directory. initdb and postgres
refuse to run as root: as root, the server's commands run as the unprivileged user `nobody`.
Standard library only. Run this file on its own for a smoke test.
"""
import atexit
import glob
import os
import pwd
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.parse

__all__ = ["PgServer", "PgServerError", "PsqlError", "find_bin_dir"]

UNPRIVILEGED_USER = "nobody"
UNPRIVILEGED_GROUP = "nogroup"


class PgServerError(RuntimeError):
    pass


class PsqlError(subprocess.CalledProcessError):
    """psql failed; .stderr holds its message, which str() shows too."""

    def __init__(self, returncode, cmd, output, stderr, what):
        super().__init__(returncode, cmd, output, stderr)
        self.what = what

    def __str__(self):
        return f"psql failed (exit {self.returncode}) on {self.what!r}:\n{self.stderr}"


def _version_key(path):
    # /usr/lib/postgresql/15/bin → (15,); "9.6" → (9, 6)
    name = os.path.basename(os.path.dirname(path))
    return tuple(int(p) for p in re.findall(r"\d+", name)) or (0,)


def find_bin_dir():
    """The PostgreSQL server binaries: 15 when there, else the newest installed version."""
    preferred = "/usr/lib/postgresql/15/bin"
    candidates = [preferred] + sorted(glob.glob("/usr/lib/postgresql/*/bin"), key=_version_key, reverse=True)
    for d in candidates:
        if all(os.access(os.path.join(d, tool), os.X_OK) for tool in ("initdb", "pg_ctl", "postgres")):
            return d
    raise PgServerError(
        "PostgreSQL server binaries (initdb, pg_ctl, postgres) not found under /usr/lib/postgresql/*/bin; "
        "install the Debian package `postgresql` (apt-get install postgresql)")


def _free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _pick_locale():
    try:
        out = subprocess.run(["locale", "-a"], capture_output=True, text=True, timeout=10).stdout
    except (OSError, subprocess.SubprocessError):
        return "C"
    names = {line.strip().lower().replace("-", "") for line in out.splitlines()}
    return "C.UTF-8" if "c.utf8" in names else "C"


def _drop_privileges_prefix():
    """The command prefix that runs a command as `nobody` (empty when not root)."""
    if os.geteuid() != 0:
        return []
    try:
        pwd.getpwnam(UNPRIVILEGED_USER)
    except KeyError:
        raise PgServerError(f"running as root and there is no user {UNPRIVILEGED_USER!r} to run PostgreSQL as")
    tried = []
    options = []
    if shutil.which("runuser"):
        options.append([shutil.which("runuser"), "-u", UNPRIVILEGED_USER, "--"])
    if shutil.which("setpriv"):
        options.append([shutil.which("setpriv"), f"--reuid={UNPRIVILEGED_USER}",
                        f"--regid={UNPRIVILEGED_GROUP}", "--clear-groups"])
    for prefix in options:
        try:
            r = subprocess.run(prefix + ["id", "-u"], capture_output=True, text=True, timeout=10, cwd="/")
        except (OSError, subprocess.SubprocessError) as e:
            tried.append(f"{prefix[0]}: {e}")
            continue
        if r.returncode == 0 and r.stdout.strip() == str(pwd.getpwnam(UNPRIVILEGED_USER).pw_uid):
            return prefix
        tried.append(f"{prefix[0]}: exit {r.returncode} {r.stderr.strip()}")
    raise PgServerError("running as root, and neither runuser nor setpriv could switch to "
                        f"{UNPRIVILEGED_USER!r}: " + "; ".join(tried or ["neither is installed"]))


class PgServer:
    def __init__(self, bin_dir=None):
        self.bin_dir = bin_dir or find_bin_dir()
        self.dir = None
        self.data_dir = None
        self.port = None
        self.url = None
        self._prefix = None
        self._running = False

    # --- commands -------------------------------------------------------------------------

    def _tool(self, name):
        return os.path.join(self.bin_dir, name)

    def _psql_path(self):
        own = self._tool("psql")
        return own if os.access(own, os.X_OK) else (shutil.which("psql") or "/usr/bin/psql")

    def _env(self):
        env = dict(os.environ)
        for k in list(env):  # a developer's PG* settings must not steer the private server
            if k.startswith("PG"):
                del env[k]
        env["PGCONNECT_TIMEOUT"] = "10"
        return env

    def _server_cmd(self, args, timeout=120, check=True):
        """Runs a server-side command (initdb, pg_ctl) as the unprivileged user when root."""
        r = subprocess.run(self._prefix + args, capture_output=True, text=True, timeout=timeout,
                           cwd=self.dir, env=self._env(), stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise PgServerError(f"{' '.join(args)} failed (exit {r.returncode}):\n{r.stdout}{r.stderr}"
                                + self._log_tail())
        return r

    def _log_tail(self):
        log = os.path.join(self.dir or "", "server.log")
        try:
            with open(log, encoding="utf-8", errors="replace") as f:
                return "\n--- server.log ---\n" + "".join(f.readlines()[-30:])
        except OSError:
            return ""

    # --- lifecycle ------------------------------------------------------------------------

    def start(self):
        if self._running:
            return self
        self._prefix = _drop_privileges_prefix()
        self.dir = tempfile.mkdtemp(prefix="chatd-pg-")
        self.data_dir = os.path.join(self.dir, "data")
        try:
            if os.geteuid() == 0:
                # The directory is still empty: this is the whole chown -R. Everything below is
                # created by initdb and postgres as `nobody`; postgresql.conf is only appended to.
                shutil.chown(self.dir, UNPRIVILEGED_USER, UNPRIVILEGED_GROUP)
            self._server_cmd([self._tool("initdb"), "-D", self.data_dir, "-A", "trust", "-U", "postgres",
                              "--no-sync", "-E", "UTF8", f"--locale={_pick_locale()}"])
            atexit.register(self.stop)
            last_error = None
            for _ in range(5):  # the free port may be taken between choosing and binding it
                self.port = _free_port()
                self._write_config()
                r = self._server_cmd([self._tool("pg_ctl"), "start", "-w", "-t", "60", "-D", self.data_dir,
                                      "-l", os.path.join(self.dir, "server.log")], check=False)
                if r.returncode == 0:
                    break
                last_error = f"pg_ctl start failed (exit {r.returncode}):\n{r.stdout}{r.stderr}{self._log_tail()}"
            else:
                raise PgServerError(last_error)
            self._running = True
            self.url = f"postgresql://postgres@127.0.0.1:{self.port}/postgres"
            self._wait_ready()
        except BaseException:
            self.stop()
            raise
        return self

    def _write_config(self):
        settings = {
            "port": str(self.port),
            "listen_addresses": "'127.0.0.1'",
            "unix_socket_directories": "'" + self.dir.replace("'", "''") + "'",
            "fsync": "off",
            "synchronous_commit": "off",
            "full_page_writes": "off",
            "max_connections": "300",
            "shared_buffers": "64MB",
        }
        # A conf file's last setting wins: appending overrides earlier attempts too.
        with open(os.path.join(self.data_dir, "postgresql.conf"), "a", encoding="utf-8") as f:
            f.write("\n# tests/support/pg_server.py\n")
            for k, v in settings.items():
                f.write(f"{k} = {v}\n")

    def _wait_ready(self, timeout=60):
        isready = self._tool("pg_isready")
        deadline = time.monotonic() + timeout
        while True:
            if os.access(isready, os.X_OK):
                r = subprocess.run([isready, "-q", "-h", "127.0.0.1", "-p", str(self.port), "-U", "postgres",
                                    "-d", "postgres"], env=self._env(), capture_output=True, timeout=15)
                ok = r.returncode == 0
            else:
                try:
                    with socket.create_connection(("127.0.0.1", self.port), timeout=1):
                        ok = True
                except OSError:
                    ok = False
            if ok:
                return
            if time.monotonic() > deadline:
                raise PgServerError(f"PostgreSQL on port {self.port} not ready after {timeout} s" + self._log_tail())
            time.sleep(0.1)

    def stop(self):
        if self._running and self.data_dir:
            try:
                self._server_cmd([self._tool("pg_ctl"), "stop", "-m", "immediate", "-w", "-D", self.data_dir],
                                 timeout=60, check=False)
            except (OSError, subprocess.SubprocessError):
                pass
        self._running = False
        if self.dir:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        try:
            atexit.unregister(self.stop)
        except Exception:
            pass

    def halt(self):
        """Stops the server but keeps its data, as an outage or a restart would."""
        self._server_cmd([self._tool("pg_ctl"), "stop", "-m", "fast", "-w", "-D", self.data_dir], timeout=60)
        self._running = False

    def resume(self):
        """Starts a halted server again on the same port with the same data."""
        self._server_cmd([self._tool("pg_ctl"), "start", "-w", "-t", "60", "-D", self.data_dir,
                          "-l", os.path.join(self.dir, "server.log")])
        self._running = True
        self._wait_ready()

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.stop()
        return False

    # --- clients --------------------------------------------------------------------------

    def url_for(self, database):
        return f"postgresql://postgres@127.0.0.1:{self.port}/{urllib.parse.quote(database, safe='')}"

    def create_database(self, name):
        """Creates an empty database `name`; returns its URL."""
        quoted = '"' + name.replace('"', '""') + '"'
        self.psql(self.url, f"CREATE DATABASE {quoted}")
        return self.url_for(name)

    def _run_psql(self, args, what):
        cmd = [self._psql_path(), "-X", "-v", "ON_ERROR_STOP=1"] + args
        r = subprocess.run(cmd, capture_output=True, text=True, env=self._env(), timeout=300,
                           stdin=subprocess.DEVNULL)
        if r.returncode != 0:
            raise PsqlError(r.returncode, cmd, r.stdout, r.stderr, what)
        return r.stdout

    def psql(self, url, sql):
        """stdout of `psql -At -X -v ON_ERROR_STOP=1 -d URL -c SQL`, less its final newline
        ("1", not "1\n"). A failure raises PsqlError, a CalledProcessError whose .stderr holds
        the server's message."""
        out = self._run_psql(["-At", "-d", url, "-c", sql], sql)
        return out[:-1] if out.endswith("\n") else out

    def rows(self, url, sql):
        """The rows of a query as tuples of text; NULL reads as "". Values may hold any
        character but the separators \\x1f and \\x1e."""
        out = self._run_psql(["-At", "-F", "\x1f", "-R", "\x1e", "-d", url, "-c", sql], sql)
        if not out:  # no rows at all; one row of one empty value prints "\n"
            return []
        if out.endswith("\n"):
            out = out[:-1]
        return [tuple(record.split("\x1f")) for record in out.split("\x1e")]

    def psql_file(self, url, path):
        """Runs an SQL file in one transaction (psql -1 -f), stopping at the first error."""
        return self._run_psql(["-q", "-1", "-d", url, "-f", path], path)


def run_with_server(command):
    """Runs `command` with CHATD_TEST_POSTGRES_URL naming a fresh private server (its
    `postgres` database; tests create databases of their own); returns its exit status."""
    with PgServer() as pg:
        env = dict(os.environ, CHATD_TEST_POSTGRES_URL=pg.url)
        return subprocess.run(command, env=env).returncode


def smoke_test():
    with PgServer() as pg:
        print(pg.url)
        print(pg.psql(pg.url, "select version()").strip())
        url = pg.create_database("smoke")
        assert pg.psql(url, "select current_database()") == "smoke"
        assert pg.rows(url, "select 'a|b', E'x\\ny', null union all select '1', '', 'z'") == \
            [("a|b", "x\ny", ""), ("1", "", "z")]
        assert pg.rows(url, "select ''") == [("",)] and pg.rows(url, "select 1 where false") == []
        print("ok:", url)
    return 0


def main():
    """`pg_server.py` alone: a smoke test. `pg_server.py --run COMMAND…`: COMMAND against a
    private server (see run_with_server)."""
    if len(sys.argv) > 2 and sys.argv[1] == "--run":
        return run_with_server(sys.argv[2:])
    return smoke_test()


if __name__ == "__main__":
    sys.exit(main())
