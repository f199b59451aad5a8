#!/usr/bin/env python3
"""A fake WeChat Official Account platform (api.weixin.qq.com) plus a phone simulator that pushes
events and messages to the app's callback URL the way WeChat does. See README.md in this folder.

Needs only python3 and python3-cryptography.
"""
import argparse
import base64
import json
import os
import secrets
import string
import struct
import sys
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))  # when loaded by path, as the tests do
from fake_wechat_wire import (  # noqa: E402
    MAX_QR_EXPIRE, DEFAULT_QR_EXPIRE, MAX_BODY, USER_UNAVAILABLE, ERRMSG, FAULT_APIS, signature,
    aes_key, encrypt, message_xml, parse_reply, random_text, random_openid, PNG, HttpError,
    ApiError, http_exchange,
)


# --- the platform ------------------------------------------------------------------------------

class Token:
    def __init__(self, value, expires):
        self.value = value
        self.expires = expires
        self.revoked_at = None  # set when a newer token replaces it


class Platform:
    def __init__(self, args):
        self.appid = args.appid
        self.secret = args.secret
        self.token = args.token
        self.key = aes_key(args.aes_key) if args.aes_key else None
        self.account_id = args.account_id
        self.account = args.account
        self.token_ttl = args.token_ttl
        self.grace = args.grace
        self.callback = args.callback
        self.reply_timeout = args.reply_timeout
        self.qr_expire_override = 0  # when set, qrcode/create grants this many seconds
        self.lock = threading.Lock()
        self.tokens = {}
        self.stable_current = None
        self.classic_current = None
        self.qrcodes = []
        self.users = {}
        self.faults = {}  # api -> [errcode, remaining count]
        self.pushes = []
        self.stats = dict.fromkeys(("stable_token", "force_refresh", "token", "qrcode_create", "user_info",
                                    "errors_injected", "tokens_rejected"), 0)

    # tokens

    def issue_token(self):
        value = f"{secrets.randbelow(90) + 10}_" + random_text(150, string.ascii_letters + string.digits + "-_")
        tok = Token(value, time.time() + self.token_ttl)
        self.tokens[value] = tok
        return tok

    def retire(self, tok, grace):
        if tok is not None and tok.revoked_at is None:
            tok.revoked_at = time.time() + grace

    @staticmethod
    def usable(tok):
        now = time.time()
        return tok is not None and now < tok.expires and (tok.revoked_at is None or now < tok.revoked_at)

    def token_answer(self, tok):
        return {"access_token": tok.value, "expires_in": max(1, int(tok.expires - time.time() + 0.999))}

    def check_credentials(self, grant_type, appid, secret):
        if grant_type != "client_credential":
            raise ApiError(40002)
        if not appid:
            raise ApiError(41002)
        if appid != self.appid:
            raise ApiError(40013)
        if not secret:
            raise ApiError(41004)
        if secret != self.secret:
            raise ApiError(40125)

    def check_access_token(self, value):
        tok = self.tokens.get(value) if value else None
        now = time.time()
        if not value:
            code = 41001
        elif tok is None:
            code = 40001
        elif now >= tok.expires:
            code = 42001
        elif tok.revoked_at is not None and now >= tok.revoked_at:
            code = 40001
        else:
            return
        self.stats["tokens_rejected"] += 1
        raise ApiError(code)

    def injected_fault(self, api):
        for name in (api, "*"):
            fault = self.faults.get(name)
            if fault and fault[1] > 0:
                fault[1] -= 1
                self.stats["errors_injected"] += 1
                raise ApiError(fault[0])

    # WeChat API

    def api_stable_token(self, body):
        self.stats["stable_token"] += 1
        force = body.get("force_refresh") is True
        if force:
            self.stats["force_refresh"] += 1
        self.injected_fault("stable_token")
        self.check_credentials(body.get("grant_type"), body.get("appid"), body.get("secret"))
        if force or not self.usable(self.stable_current):
            # A forced refresh leaves the old token working for the grace period.
            self.retire(self.stable_current, self.grace)
            self.stable_current = self.issue_token()
        return self.token_answer(self.stable_current)

    def api_token(self, query):
        self.stats["token"] += 1
        self.injected_fault("token")
        self.check_credentials(query.get("grant_type"), query.get("appid"), query.get("secret"))
        # Every call issues a new token; the previous one lives on for the grace period.
        self.retire(self.classic_current, self.grace)
        self.classic_current = self.issue_token()
        return self.token_answer(self.classic_current)

    def api_qrcode_create(self, query, body):
        self.stats["qrcode_create"] += 1
        self.injected_fault("qrcode/create")
        self.check_access_token(query.get("access_token"))
        if self.account == "subscription":
            raise ApiError(48001)
        action = body.get("action_name")
        if action not in ("QR_SCENE", "QR_STR_SCENE", "QR_LIMIT_SCENE", "QR_LIMIT_STR_SCENE"):
            raise ApiError(40052)
        info = body.get("action_info")
        scene = info.get("scene") if isinstance(info, dict) else None
        if not isinstance(scene, dict):
            raise ApiError(40053)
        if action.endswith("STR_SCENE"):
            value = scene.get("scene_str")
            if not isinstance(value, str) or not 1 <= len(value) <= 64:
                raise ApiError(40053)
        else:
            value = scene.get("scene_id")
            top = 100000 if action == "QR_LIMIT_SCENE" else 0xFFFFFFFF
            if not isinstance(value, int) or isinstance(value, bool) or not 1 <= value <= top:
                raise ApiError(40053)
        permanent = action.startswith("QR_LIMIT")
        expire = body.get("expire_seconds", DEFAULT_QR_EXPIRE)
        if not permanent and (not isinstance(expire, int) or isinstance(expire, bool) or expire <= 0):
            raise ApiError(40035)
        expire = None if permanent else min(expire, MAX_QR_EXPIRE)
        if not permanent and self.qr_expire_override:  # a test's shortcut to expiry
            expire = self.qr_expire_override
        created = int(time.time())
        url = "http://weixin.qq.com/q/" + random_text(22, string.ascii_letters + string.digits + "-_")
        # Real tickets are base64 of a binary blob that embeds the url; they contain + / =.
        blob = (b"\x81\x01" + secrets.token_bytes(12) + url.encode() + b"\x00\x02\x04"
                + struct.pack("<I", created) + b"\x03\x04" + struct.pack("<I", created + (expire or 0)))
        ticket = base64.b64encode(blob).decode()
        self.qrcodes.append({"ticket": ticket, "action_name": action, "scene": value, "url": url,
                             "expire_seconds": expire, "created": created,
                             "expires": None if permanent else created + expire})
        answer = {"ticket": ticket, "url": url}
        if not permanent:
            answer["expire_seconds"] = expire
        return answer

    def api_user_info(self, query):
        self.stats["user_info"] += 1
        self.injected_fault("user/info")
        self.check_access_token(query.get("access_token"))
        openid = query.get("openid")
        if not openid:
            raise ApiError(41009)
        user = self.users.get(openid)
        if user is None:
            raise ApiError(40003)
        info = {"subscribe": 1, "openid": openid, "nickname": "", "sex": 0,
                "language": query.get("lang") or "zh_CN", "subscribe_time": user["subscribe_time"]}
        if user["unionid"]:
            info["unionid"] = user["unionid"]
        info.update({"remark": "", "groupid": 0, "tagid_list": [], "subscribe_scene": user["subscribe_scene"],
                     "qr_scene": user["qr_scene"], "qr_scene_str": user["qr_scene_str"]})
        return info

    def showqrcode(self, ticket):
        code = self.find_qrcode({"ticket": ticket})
        if code is None or self.expired(code):
            raise HttpError(404, "unknown or expired ticket")
        return PNG

    # test hooks

    def find_qrcode(self, req):
        for field in ("ticket", "url", "scene"):
            if req.get(field) is not None:
                wanted = str(req[field])
                for code in reversed(self.qrcodes):
                    if str(code[field]) == wanted:
                        return code
                return None
        raise HttpError(400, "give ticket, url or scene")

    @staticmethod
    def expired(code):
        return code["expires"] is not None and time.time() >= code["expires"]

    def set_fault(self, req):
        api, errcode, count = req.get("api"), req.get("errcode"), req.get("count", 1)
        if api not in FAULT_APIS or not isinstance(errcode, int) or not isinstance(count, int):
            raise HttpError(400, f"need api in {FAULT_APIS}, integer errcode and count")
        self.faults[api] = [errcode, count]
        return {"ok": True}

    def rotate(self):
        # As if another server forced a refresh: the current tokens stop working at once.
        rotated = []
        for name in ("stable_current", "classic_current"):
            tok = getattr(self, name)
            if tok is not None:
                tok.revoked_at = time.time()
                setattr(self, name, None)
                rotated.append(name.split("_")[0])
        return {"rotated": rotated}

    def configure(self, req):
        if "callback" in req:
            self.callback = req["callback"]
        if "reply_timeout" in req:
            self.reply_timeout = float(req["reply_timeout"])
        if "qr_expire_seconds" in req:
            self.qr_expire_override = int(req["qr_expire_seconds"] or 0)
        return {"callback": self.callback, "reply_timeout": self.reply_timeout,
                "qr_expire_seconds": self.qr_expire_override}

    def public_qrcodes(self):
        keys = ("ticket", "action_name", "scene", "url", "expire_seconds", "created")
        return [{k: c[k] for k in keys} for c in self.qrcodes]

    def remember_user(self, openid, req, scene_code=None):
        user = self.users.get(openid)
        if user is None:
            unionid = req.get("unionid") or ("union_" + openid if openid.startswith("U") else None)
            user = {"subscribe_time": int(req.get("timestamp") or time.time()), "unionid": unionid,
                    "subscribe_scene": "ADD_SCENE_OTHERS", "qr_scene": 0, "qr_scene_str": ""}
            self.users[openid] = user
        elif req.get("unionid"):
            user["unionid"] = req["unionid"]
        if scene_code is not None:
            user["subscribe_scene"] = "ADD_SCENE_QR_CODE"
            if isinstance(scene_code["scene"], int):
                user["qr_scene"] = scene_code["scene"]
            else:
                user["qr_scene_str"] = scene_code["scene"]

    # phone simulator

    def sim_scan(self, req):
        with self.lock:
            code = self.find_qrcode(req)
            if code is None:
                raise HttpError(404, "no such QR code")
            if self.expired(code):
                # The phone shows "二维码已过期" and WeChat pushes nothing.
                raise HttpError(410, "QR code expired")
            openid = req.get("openid") or random_openid()
            following = bool(req.get("following"))
            self.remember_user(openid, req, None if following else code)
        ts = self.timestamp(req)
        if following:
            event, key = "SCAN", str(code["scene"])
        else:
            event, key = "subscribe", "qrscene_" + str(code["scene"])
        xml = message_xml([("ToUserName", self.account_id), ("FromUserName", openid), ("CreateTime", ts),
                           ("MsgType", "event"), ("Event", event), ("EventKey", key), ("Ticket", code["ticket"])])
        return self.deliver(event, openid, xml, ts, req)

    def sim_follow(self, req):
        openid = req.get("openid") or random_openid()
        with self.lock:
            self.remember_user(openid, req)
        ts = self.timestamp(req)
        xml = message_xml([("ToUserName", self.account_id), ("FromUserName", openid), ("CreateTime", ts),
                           ("MsgType", "event"), ("Event", "subscribe")])
        return self.deliver("subscribe", openid, xml, ts, req)

    def sim_text(self, req):
        openid = req.get("openid") or random_openid()
        with self.lock:
            self.remember_user(openid, req)
        ts = self.timestamp(req)
        msg_id = req.get("msg_id")
        if msg_id is None:
            msg_id = 10**18 + secrets.randbelow(2**63 - 10**18)
        xml = message_xml([("ToUserName", self.account_id), ("FromUserName", openid), ("CreateTime", ts),
                           ("MsgType", "text"), ("Content", req.get("content", "")), ("MsgId", int(msg_id))])
        return self.deliver("text", openid, xml, ts, req)

    def sim_push(self, req):
        xml = req.get("xml")
        if not isinstance(xml, str):
            raise HttpError(400, "xml (string) is required")
        openid = req.get("openid")
        if not openid:
            try:
                openid = ET.fromstring(xml.encode()).findtext("FromUserName") or ""
            except ET.ParseError:
                openid = ""
        if openid:
            with self.lock:
                self.remember_user(openid, req)
        return self.deliver("raw", openid, xml, self.timestamp(req), req)

    @staticmethod
    def timestamp(req):
        ts = req.get("timestamp")
        return int(ts) if ts is not None else int(time.time())

    def deliver(self, kind, openid, xml, ts, req):
        """Sends one message like WeChat: signed query, optional encryption, up to `retries` attempts
        on timeout or connection error, each re-sending the very same body."""
        callback, timeout = self.callback, self.reply_timeout
        if not callback:
            raise HttpError(409, "no callback configured; POST /_fake/config first")
        safe = bool(req.get("safe"))
        if safe and self.key is None:
            raise HttpError(400, "safe mode needs --aes-key")
        attempts_allowed = int(req.get("retries", 3))
        sign, msg_sign = req.get("sign", "good"), req.get("msg_signature", "good")
        if safe:
            encrypted = encrypt(self.key, xml.encode(), req.get("appid") or self.appid)
            body = message_xml([("ToUserName", self.account_id), ("Encrypt", encrypted)]).encode()
        else:
            encrypted, body = None, xml.encode()
        tries = []
        for attempt in range(max(1, attempts_allowed)):
            nonce = str(req["nonce"]) if attempt == 0 and "nonce" in req else str(secrets.randbelow(9 * 10**9) + 10**9)
            query = {}
            if sign != "none":
                query["signature"] = signature(self.token, ts, nonce) if sign == "good" else signature("x", ts, nonce)
            query.update(timestamp=ts, nonce=nonce, openid=openid)
            if safe:
                query["encrypt_type"] = "aes"
                query["msg_signature"] = (signature(self.token, ts, nonce, encrypted) if msg_sign == "good"
                                          else signature(self.token, ts, nonce, encrypted + "x"))
            url = callback + ("&" if "?" in callback else "?") + urllib.parse.urlencode(query)
            outcome = http_exchange("POST", url, body, {"Content-Type": "text/xml", "User-Agent": "Mozilla/4.0"},
                                    timeout)
            tries.append({**{k: v for k, v in outcome.items() if k != "body"}, "url": url})
            if "error" not in outcome:
                break
        result = self.judge(outcome, tries, openid, safe)
        entry = {"kind": kind, "openid": openid, "safe": safe, "xml": xml, "time": time.time(), **result}
        with self.lock:
            self.pushes.append(entry)
        print(f"fake_wechat push {kind} openid={openid} safe={safe} attempts={len(tries)} ok={result['ok']}"
              + (f" problems={result['problems']}" if result["problems"] else ""), flush=True)
        return result

    def judge(self, last, tries, openid, safe):
        """Checks the last answer the way WeChat would before showing it to the user."""
        problems, reply, empty_ok = [], None, False
        raw = last.get("body", b"")
        text = raw.decode(errors="replace")
        if "error" in last:
            problems.append(f"all {len(tries)} attempts failed ({last['error']}); {USER_UNAVAILABLE}")
        elif last["status"] != 200:
            problems.append(f"HTTP status {last['status']}; {USER_UNAVAILABLE}")
        elif raw in (b"", b"success"):
            empty_ok = True
        else:
            try:
                reply = parse_reply(raw, openid, safe, problems, token=self.token, key=self.key, appid=self.appid,
                                    account_id=self.account_id)
            except (ET.ParseError, ValueError) as e:
                problems.append(f"reply is neither 'success'/empty nor valid XML ({e}); {USER_UNAVAILABLE}")
        return {"ok": not problems, "attempts": len(tries), "status": last.get("status"), "body": text,
                "reply": reply, "empty_ok": empty_ok, "problems": problems, "tries": tries}

    def verify_url(self, req):
        if not self.callback:
            raise HttpError(409, "no callback configured; POST /_fake/config first")
        ts, nonce = int(time.time()), str(secrets.randbelow(9 * 10**9) + 10**9)
        echostr = str(secrets.randbelow(9 * 10**18) + 10**18)
        sig = signature(self.token, ts, nonce) if req.get("sign", "good") == "good" else signature("x", ts, nonce)
        query = urllib.parse.urlencode({"signature": sig, "timestamp": ts, "nonce": nonce, "echostr": echostr})
        url = self.callback + ("&" if "?" in self.callback else "?") + query
        outcome = http_exchange("GET", url, None, {"User-Agent": "Mozilla/4.0"}, self.reply_timeout)
        body = outcome.get("body", b"").decode(errors="replace")
        return {"status": outcome.get("status"), "body": body, "echostr": echostr,
                "ok": outcome.get("status") == 200 and body == echostr, "error": outcome.get("error")}


# --- HTTP ----------------------------------------------------------------------------------------

class Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    platform = None  # set in main()

    errcode = None  # of the API error being answered, for the log line

    def log_message(self, fmt, *args):
        print(f"fake_wechat {self.client_address[0]} " + fmt % args, flush=True)

    def log_request(self, code="-", size="-"):
        suffix = f" errcode={self.errcode}" if self.errcode is not None else ""
        self.log_message('"%s" %s%s', self.requestline, code, suffix)

    def do_GET(self):
        self.route("GET")

    def do_POST(self):
        self.route("POST")

    def send(self, status, body, content_type="application/json; encoding=utf-8"):
        if not isinstance(body, bytes):
            body = json.dumps(body, ensure_ascii=False, separators=(",", ":")).encode()
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def read_body(self):
        n = int(self.headers.get("Content-Length") or 0)
        if n > MAX_BODY:
            raise HttpError(413, "body too large")
        return self.rfile.read(n) if n else b""

    def read_json(self, api_error=False):
        raw = self.read_body()
        try:
            value = json.loads(raw or b"{}")
            if isinstance(value, dict):
                return value
        except ValueError:
            pass
        if api_error:
            raise ApiError(47001)
        raise HttpError(400, "body must be a JSON object")

    def route(self, method):
        p = self.platform
        self.errcode = None  # the handler lives on across keep-alive requests
        parts = urllib.parse.urlsplit(self.path)
        path = parts.path
        query = dict(urllib.parse.parse_qsl(parts.query, keep_blank_values=True))
        try:
            if path.startswith("/cgi-bin/"):
                self.route_api(method, path[len("/cgi-bin/"):], query)
                return
            hooks_get = {"/_fake/stats": lambda: dict(p.stats), "/_fake/qrcodes": p.public_qrcodes,
                         "/_fake/pushes": lambda: list(p.pushes)}
            # The simulator endpoints run outside the lock: the app may call the API while answering.
            hooks_post = {"/_fake/fail": p.set_fault, "/_fake/rotate": lambda _: p.rotate(),
                          "/_fake/config": p.configure}
            simulator = {"/_fake/scan": p.sim_scan, "/_fake/follow": p.sim_follow, "/_fake/text": p.sim_text,
                         "/_fake/push": p.sim_push, "/_fake/verify_url": p.verify_url}
            if method == "GET" and path in hooks_get:
                with p.lock:
                    answer = json.dumps(hooks_get[path](), ensure_ascii=False).encode()  # snapshot under the lock
            elif method == "POST" and path in hooks_post:
                req = self.read_json()
                with p.lock:
                    answer = hooks_post[path](req)
            elif method == "POST" and path in simulator:
                answer = simulator[path](self.read_json())
            else:
                raise HttpError(404, f"no route {method} {path}")
            self.send(200, answer)
        except HttpError as e:
            self.send(e.status, {"error": str(e)})
        except (ValueError, TypeError) as e:  # a test hook given a value of the wrong type
            self.send(400, {"error": f"bad request: {e}"})

    def route_api(self, method, api, query):
        p = self.platform
        try:
            if api == "showqrcode":
                with p.lock:
                    image = p.showqrcode(query.get("ticket", ""))
                self.send(200, image, "image/png")
                return
            posts = {"stable_token", "qrcode/create"}
            gets = {"token", "user/info"}
            if api in posts and method != "POST":
                raise ApiError(43002)
            if api in gets and method != "GET":
                raise ApiError(43001)
            if api == "stable_token":
                body = self.read_json(api_error=True)
                with p.lock:
                    answer = p.api_stable_token(body)
            elif api == "token":
                with p.lock:
                    answer = p.api_token(query)
            elif api == "qrcode/create":
                body = self.read_json(api_error=True)
                with p.lock:
                    answer = p.api_qrcode_create(query, body)
            elif api == "user/info":
                with p.lock:
                    answer = p.api_user_info(query)
            else:
                raise HttpError(404, f"no API {api}")
        except ApiError as e:
            # Real errmsgs end in a request id, so clients must match on errcode, not on text.
            template = ERRMSG.get(e.errcode, "error")
            errmsg = template.format(ip=self.client_address[0], **e.fmt)
            rid = "-".join(secrets.token_hex(4) for _ in range(3))
            answer = {"errcode": e.errcode, "errmsg": f"{errmsg} rid: {rid}"}
            self.errcode = e.errcode
        self.send(200, answer)


class Server(ThreadingHTTPServer):
    daemon_threads = True


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--listen", default="127.0.0.1:0", help="HOST:PORT")
    ap.add_argument("--port-file", help="written atomically with the bound port")
    ap.add_argument("--appid", required=True)
    ap.add_argument("--secret", required=True)
    ap.add_argument("--token", required=True, help="the push Token shared with the app")
    ap.add_argument("--aes-key", help="43-character EncodingAESKey; enables safe-mode pushes")
    ap.add_argument("--account-id", default="gh_fake000001", help="the account's gh_ id (ToUserName)")
    ap.add_argument("--callback", help="the app's callback URL (or POST /_fake/config later)")
    ap.add_argument("--token-ttl", type=float, default=7200, help="access_token lifetime in seconds")
    ap.add_argument("--grace", type=float, default=300, help="seconds a replaced token keeps working")
    ap.add_argument("--reply-timeout", type=float, default=5.0, help="seconds WeChat waits for each reply")
    ap.add_argument("--account", choices=("service", "subscription"), default="service")
    args = ap.parse_args()
    try:
        platform = Platform(args)
    except ValueError as e:
        ap.error(f"--aes-key: {e}")

    host, _, port = args.listen.rpartition(":")
    Handler.platform = platform
    server = Server((host.strip("[]") or "127.0.0.1", int(port)), Handler)
    bound_host, bound_port = server.server_address[:2]
    print(f"fake_wechat listening on {bound_host}:{bound_port}", flush=True)
    if args.port_file:
        tmp = args.port_file + ".tmp"
        with open(tmp, "w") as f:
            f.write(f"{bound_port}\n")
        os.replace(tmp, args.port_file)
    try:
        server.serve_forever()
    except KeyboardInterrupt:
        pass
    return 0


if __name__ == "__main__":
    sys.exit(main())
