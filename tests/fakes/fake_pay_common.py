"""What the three payment fakes (fake_wechatpay.py, fake_alipay.py, fake_epay.py) share: the
command line and listening socket, the order book, injected failures and notification delivery
with retries, and the /_fake/... test hooks. Each channel subclasses PayFake. See README.md.

Needs only python3 (and python3-cryptography in the RSA fakes).
"""
import argparse
import base64
import json
import os
import secrets
import socket
import string
import threading
import time
import urllib.parse
from datetime import datetime, timedelta, timezone
from http.client import HTTPConnection, HTTPSConnection
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa

MAX_BODY = 1 << 20
CST = timezone(timedelta(hours=8))  # every channel here speaks Beijing time


class HttpError(Exception):
    """A test-hook answer other than 200."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


def random_text(n, alphabet=string.ascii_letters + string.digits):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def random_digits(n):
    return "".join(secrets.choice(string.digits) for _ in range(n))


def now_cst():
    return datetime.now(CST).replace(microsecond=0)


def parse_delays(text):
    return [float(x) for x in text.split(",") if x.strip()] if text else []


# --- RSA (PKCS#1 v1.5 with SHA-256: WeChat Pay v3 and Alipay RSA2 alike) -------------------------

def load_or_generate_key(path):
    if path:
        with open(path, "rb") as f:
            return serialization.load_pem_private_key(f.read(), password=None)
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def load_public_key(path):
    with open(path, "rb") as f:
        data = f.read()
    if b"BEGIN" not in data:  # Alipay's console hands out the bare base64 of the DER key
        data = b"-----BEGIN PUBLIC KEY-----\n" + data.strip() + b"\n-----END PUBLIC KEY-----\n"
    return serialization.load_pem_public_key(data)


def write_public_key(key, path):
    pem = key.public_key().public_bytes(serialization.Encoding.PEM,
                                        serialization.PublicFormat.SubjectPublicKeyInfo)
    atomic_write(path, pem)


def rsa_sign(key, message):
    return base64.b64encode(key.sign(message, padding.PKCS1v15(), hashes.SHA256())).decode()


def rsa_verify(public_key, message, b64sig):
    try:
        public_key.verify(base64.b64decode(b64sig, validate=True), message, padding.PKCS1v15(),
                          hashes.SHA256())
        return True
    except Exception:  # bad base64 or bad signature: the same refusal either way
        return False


def atomic_write(path, data):
    tmp = path + ".tmp"
    with open(tmp, "wb") as f:
        f.write(data if isinstance(data, bytes) else data.encode())
    os.replace(tmp, path)


# --- outgoing HTTP -----------------------------------------------------------------------------

def http_exchange(method, url, body, headers, timeout):
    """One exchange with a deadline over the whole of it, as the channels' notifiers have.
    Returns {"status","body"} or {"error"}, plus "seconds"."""
    parts = urllib.parse.urlsplit(url)
    conn_class = HTTPSConnection if parts.scheme == "https" else HTTPConnection
    conn = conn_class(parts.hostname, parts.port, timeout=timeout)
    target = (parts.path or "/") + ("?" + parts.query if parts.query else "")
    out = {}

    def run():
        try:
            conn.request(method, target, body=body, headers=headers)
            resp = conn.getresponse()
            out["status"], out["body"] = resp.status, resp.read()
        except Exception as e:  # reported as a failed attempt
            out["error"] = f"{type(e).__name__}: {e}"

    started = time.monotonic()
    worker = threading.Thread(target=run, daemon=True)
    worker.start()
    worker.join(timeout)
    if worker.is_alive():
        if conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        conn.close()
        worker.join(2)
        return {"error": f"no reply within {timeout:g}s", "seconds": round(time.monotonic() - started, 3)}
    conn.close()
    out["seconds"] = round(time.monotonic() - started, 3)
    return out


# --- the shared part of every fake ---------------------------------------------------------------

class PayFake:
    """Subclasses set NAME and FAULTS and implement handle(), mark_paid(), notification(),
    delivered(), public_order()."""
    NAME = "fake_pay"
    FAULTS = ()

    def __init__(self, args):
        self.lock = threading.RLock()
        self.orders = {}  # out_trade_no -> dict, insertion order = creation order
        self.notifications = []
        self.fails = []
        self.retry_delays = parse_delays(args.retry_delays)
        self.notify_timeout = args.notify_timeout

    # hooks -------------------------------------------------------------------------------

    def order(self, out_trade_no):
        order = self.orders.get(out_trade_no or "")
        if order is None:
            raise HttpError(404, f"no order {out_trade_no!r}")
        return order

    def hook_orders(self):
        return [self.public_order(o) for o in self.orders.values()]

    def hook_notifications(self, query):
        no = query.get("out_trade_no")
        return [n for n in self.notifications if no is None or n["out_trade_no"] == no]

    def hook_fail(self, req):
        """{"path_prefix", "status"?, "count":1, "delay"?, "signature"?, "method"?, "code"?}"""
        fail = {"path_prefix": str(req.get("path_prefix", "/")), "status": req.get("status"),
                "count": int(req.get("count", 1)), "delay": float(req.get("delay", 0)),
                "signature": req.get("signature"), "method": req.get("method"), "code": req.get("code")}
        if fail["status"] is None and fail["signature"] is None and not fail["delay"]:
            raise HttpError(400, "give status, signature or delay")
        if fail["signature"] not in (None, "forged", "missing", "probe"):
            raise HttpError(400, "signature is forged, missing or probe")
        self.fails.append(fail)
        return {"fails": self.fails}

    def take_fail(self, path, method=None):
        """The first armed failure for this path (and Alipay method), used up by one."""
        with self.lock:
            for fail in self.fails:
                if path.startswith(fail["path_prefix"]) and fail["method"] in (None, method):
                    fail["count"] -= 1
                    if fail["count"] <= 0:
                        self.fails.remove(fail)
                    return dict(fail)
        return None

    def hook_pay(self, req):
        """The user scanned and paid: the order turns paid, then (unless notify is false) the
        genuine notification goes out and is retried until the app says success."""
        with self.lock:
            order = self.order(req.get("out_trade_no"))
            if order["state"] == "paid":
                raise HttpError(409, "already paid")
            if order["state"] == "closed" or self.expired(order):
                raise HttpError(409, "the order is closed or expired; the user cannot pay it")
            self.mark_paid(order, req)
            answer = {"order": self.public_order(order)}
        if req.get("notify", True) and order.get("notify_url"):
            answer["notifications"] = self.send(order, None, req)
        return answer

    def hook_notify(self, req):
        fault = req.get("fault")
        if fault is not None and fault not in self.FAULTS:
            raise HttpError(400, f"fault is one of {', '.join(self.FAULTS)}")
        count, concurrent = int(req.get("count", 1)), int(req.get("concurrent", 1))
        if not 1 <= count <= 100 or not 1 <= concurrent <= 100:
            raise HttpError(400, "count and concurrent are 1..100")
        with self.lock:
            if fault == "unknown_order":
                template = self.orders.get(req.get("out_trade_no") or "") or next(reversed(self.orders.values()), None)
                if template is None:
                    raise HttpError(409, "place an order first: unknown_order copies one")
                order = dict(template, out_trade_no=req.get("unknown_no") or "UNKNOWN" + random_digits(12))
                self.mark_paid(order, req)
            else:
                order = self.order(req.get("out_trade_no"))
                if fault in (None, "replay") and order["state"] != "paid":
                    raise HttpError(409, "the order is not paid: POST /_fake/pay first")
            if fault == "replay" and not any(n["out_trade_no"] == order["out_trade_no"] and n["fault"] is None
                                             for n in self.notifications):
                raise HttpError(409, "nothing to replay: no genuine notification was sent for this order")
        return {"notifications": self.send(order, fault, req, count, concurrent)}

    # delivery ----------------------------------------------------------------------------

    def send(self, order, fault, req, count=1, concurrent=1):
        """count rounds, one after another; each round sends `concurrent` copies of one request at
        once. Returns after every first attempt; retries carry on in the background (for genuine
        notifications always, for faults only with "retry": true)."""
        retry = fault is None or bool(req.get("retry", False))
        records = []
        for _ in range(count):
            with self.lock:
                if fault == "replay":
                    original = [n for n in self.notifications
                                if n["out_trade_no"] == order["out_trade_no"] and n["fault"] is None][-1]
                    request = dict(original["request"])
                    notify_id = original["notify_id"]
                else:
                    request, notify_id = self.notification(order, fault, req)
                batch = []
                for _ in range(concurrent):
                    rec = {"seq": len(self.notifications) + 1, "out_trade_no": order["out_trade_no"],
                           "fault": fault, "notify_id": notify_id, "method": request["method"],
                           "url": request["url"], "headers": request["headers"],
                           "body": request["body"].decode(request.get("charset", "utf-8")),
                           "attempts": [], "done": False, "retry": retry, "request": request}
                    self.notifications.append(rec)
                    batch.append(rec)
            barrier = threading.Barrier(len(batch))
            firsts = [threading.Event() for _ in batch]
            for rec, first in zip(batch, firsts):
                threading.Thread(target=self.deliver, args=(rec, first, barrier), daemon=True).start()
            for first in firsts:
                first.wait(self.notify_timeout + 5)
            with self.lock:
                records.extend(self.public_record(r) for r in batch)
        return records

    def deliver(self, rec, first, barrier):
        request = rec["request"]
        schedule = [0.0] + (self.retry_delays if rec["retry"] else [])
        try:
            barrier.wait(10)  # concurrent copies leave together
        except threading.BrokenBarrierError:
            pass
        for i, delay in enumerate(schedule):
            time.sleep(delay)
            outcome = http_exchange(request["method"], request["url"], request["body"] or None,
                                    request["headers"], self.notify_timeout)
            ok = "status" in outcome and self.delivered(outcome["status"], outcome["body"])
            attempt = {"at": time.time(), "seconds": outcome["seconds"], "ok": ok}
            if "status" in outcome:
                attempt["status"] = outcome["status"]
                attempt["body"] = outcome["body"][:2000].decode(errors="replace")
            else:
                attempt["error"] = outcome["error"]
            with self.lock:
                rec["attempts"].append(attempt)
                rec["done"] = ok
            print(f"{self.NAME} notify {rec['seq']} {rec['out_trade_no']} fault={rec['fault']} try {i + 1}: "
                  f"{attempt.get('status', attempt.get('error'))}{' ok' if ok else ''}", flush=True)
            first.set()
            if ok:
                return

    @staticmethod
    def public_record(rec):
        return {k: v for k, v in rec.items() if k != "request"}

    def expired(self, order):
        return order.get("expires_at") is not None and time.time() > order["expires_at"]


# --- HTTP --------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    fake = None  # set in serve()

    def log_message(self, fmt, *args):
        print(f"{self.fake.NAME} {self.client_address[0]} " + fmt % args, flush=True)

    def log_request(self, code="-", size="-"):
        # The path only: epay's query carries the merchant key.
        self.log_message('"%s %s" %s', self.command, urllib.parse.urlsplit(self.path).path, code)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def reply(self, status, body=b"", headers=()):
        if not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(status)
        names = set()
        for name, value in headers:
            self.send_header(name, value)
            names.add(name.lower())
        if "content-type" not in names and body:
            self.send_header("Content-Type", "application/json; charset=utf-8")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise HttpError(413, "body too large")
        return self.rfile.read(n) if n else b""

    def route(self, method):
        fake = self.fake
        parts = urllib.parse.urlsplit(self.path)
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        try:
            body = self.read_body()
            if not parts.path.startswith("/_fake/"):
                status, headers, answer = fake.handle(method, self.path, parts.path, query, body, self)
                self.reply(status, answer, headers)
                return
            hook = parts.path[len("/_fake/"):]
            if method == "GET" and hook in ("orders", "notifications"):
                with fake.lock:
                    data = fake.hook_orders() if hook == "orders" else \
                        [fake.public_record(n) for n in fake.hook_notifications(query)]
                    answer = json.dumps(data, ensure_ascii=False).encode()
            elif method == "POST" and hasattr(fake, "hook_" + hook):
                try:
                    req = json.loads(body or b"{}")
                except ValueError:
                    raise HttpError(400, "body must be a JSON object")
                if not isinstance(req, dict):
                    raise HttpError(400, "body must be a JSON object")
                answer = getattr(fake, "hook_" + hook)(req)  # pay/notify lock for themselves
            else:
                raise HttpError(404, f"no route {method} {parts.path}")
            self.reply(200, answer)
        except HttpError as e:
            self.reply(e.status, {"error": str(e)})
        except (ValueError, TypeError, KeyError) as e:
            self.reply(400, {"error": f"bad request: {e}"})


class Server(ThreadingHTTPServer):
    daemon_threads = True


def parser(description, retry_delays):
    ap = argparse.ArgumentParser(description=description)
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT")
    ap.add_argument("--port-file", help="written atomically with the bound port")
    ap.add_argument("--retry-delays", default=retry_delays,
                    help="seconds between notification attempts, comma-separated (tests shorten it)")
    ap.add_argument("--notify-timeout", type=float, default=5.0, help="seconds each notification attempt may take")
    return ap


def serve(fake, args):
    host, _, port = args.listen.rpartition(":")
    Handler.fake = fake
    server = Server((host.strip("[]") or "127.0.0.1", int(port)), Handler)
    bound_host, bound_port = server.server_address[:2]
    print(f"{fake.NAME} listening on {bound_host}:{bound_port}", flush=True)
    if args.port_file:
        atomic_write(args.port_file, f"{bound_port}\n")
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0
