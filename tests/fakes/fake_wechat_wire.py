"""WeChat's wire formats as the fake platform (fake_wechat.py) speaks them: error codes, the
callback signature, the safe-mode AES envelope (PKCS#7 to 32 bytes, AES-256-CBC, the appid
trailer), push XML, and plain HTTP exchanges with the app's callback."""
import base64
import hashlib
import secrets
import socket
import string
import struct
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET
import zlib
from http.client import HTTPConnection, HTTPSConnection

from cryptography.hazmat.primitives.ciphers import Cipher, algorithms, modes

MAX_QR_EXPIRE = 2592000  # 30 days
DEFAULT_QR_EXPIRE = 60
MAX_BODY = 1 << 20
USER_UNAVAILABLE = "the user would see 该公众号暂时无法提供服务，请稍后再试"

ERRMSG = {
    -1: "system error",
    40001: "invalid credential, access_token is invalid or not latest",
    40002: "invalid grant_type",
    40003: "invalid openid",
    40013: "invalid appid",
    40035: "invalid args",
    40052: "invalid action name",
    40053: "invalid action info",
    40125: "invalid appsecret",
    40164: "invalid ip {ip} ipv6 ::ffff:{ip}, not in whitelist",
    41001: "access_token missing",
    41002: "appid missing",
    41004: "appsecret missing",
    41009: "missing openid",
    42001: "access_token expired",
    43001: "require GET method",
    43002: "require POST method",
    47001: "data format error",
    48001: "api unauthorized",
}
FAULT_APIS = ("stable_token", "token", "qrcode/create", "user/info", "*")


# --- signatures and safe-mode crypto -------------------------------------------------------------

def signature(*parts):
    """sha1 over the lexicographically sorted parts, concatenated (URL check, pushes, replies)."""
    return hashlib.sha1("".join(sorted(str(p) for p in parts)).encode()).hexdigest()


def aes_key(encoding_aes_key):
    """The 43-character EncodingAESKey is base64 without its trailing '='."""
    key = base64.b64decode(encoding_aes_key + "=", validate=True)
    if len(encoding_aes_key) != 43 or len(key) != 32:
        raise ValueError("EncodingAESKey must be 43 base64 characters (32 bytes)")
    return key


def pad32(data):
    # WeChat pads to 32 bytes, not the AES block size of 16: pad values run 1..32.
    n = 32 - len(data) % 32
    return data + bytes([n]) * n


def unpad32(data):
    if not data or len(data) % 32:
        raise ValueError("ciphertext is not a multiple of 32 bytes")
    n = data[-1]
    if not 1 <= n <= 32 or data[-n:] != bytes([n]) * n:
        raise ValueError("bad PKCS#7 padding")
    return data[:-n]


def _cipher(key):
    return Cipher(algorithms.AES(key), modes.CBC(key[:16]))


def encrypt(key, msg, appid):
    """random(16) ‖ uint32_be(len) ‖ msg ‖ appid, padded to 32, AES-256-CBC with IV = key[:16]."""
    plain = pad32(secrets.token_bytes(16) + struct.pack(">I", len(msg)) + msg + appid.encode())
    enc = _cipher(key).encryptor()
    return base64.b64encode(enc.update(plain) + enc.finalize()).decode()


def decrypt(key, b64):
    """Returns (msg, appid); raises ValueError on anything malformed."""
    raw = base64.b64decode(b64, validate=True)
    dec = _cipher(key).decryptor()
    plain = unpad32(dec.update(raw) + dec.finalize())
    if len(plain) < 20:
        raise ValueError("plaintext too short")
    (n,) = struct.unpack(">I", plain[16:20])
    if 20 + n > len(plain):
        raise ValueError("length field exceeds plaintext")
    return plain[20:20 + n], plain[20 + n:].decode(errors="replace")


# --- small helpers -----------------------------------------------------------------------------

def cdata(value):
    # "]]>" cannot appear inside CDATA, so split it across two sections.
    return "<![CDATA[" + str(value).replace("]]>", "]]]]><![CDATA[>") + "]]>"


def message_xml(fields):
    """fields: [(name, value)]; ints are bare, everything else CDATA, as WeChat writes them."""
    inner = "".join(f"<{k}>{v if isinstance(v, int) else cdata(v)}</{k}>" for k, v in fields)
    return f"<xml>{inner}</xml>"


def random_text(n, alphabet=string.ascii_letters + string.digits):
    return "".join(secrets.choice(alphabet) for _ in range(n))


def random_openid():
    return "o" + random_text(27, string.ascii_letters + string.digits + "-_")


def tiny_png():
    """A valid 1x1 white PNG, standing in for the QR image."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
    ihdr = struct.pack(">IIBBBBB", 1, 1, 8, 0, 0, 0, 0)
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", zlib.compress(b"\x00\xff"))
            + chunk(b"IEND", b""))


PNG = tiny_png()


class HttpError(Exception):
    """An answer from the test-hook endpoints other than 200."""

    def __init__(self, status, message):
        super().__init__(message)
        self.status = status


class ApiError(Exception):
    """A WeChat API error: HTTP 200 with errcode/errmsg."""

    def __init__(self, errcode, **fmt):
        super().__init__(errcode)
        self.errcode = errcode
        self.fmt = fmt


def http_exchange(method, url, body, headers, timeout):
    """One HTTP exchange with a hard deadline over the whole exchange, as WeChat's 5 s limit is.
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
        # WeChat drops the connection when the time is up.
        if conn.sock is not None:
            try:
                conn.sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        conn.close()
        worker.join(2)
        return {"error": f"no reply within {timeout:g}s", "timeout": True,
                "seconds": round(time.monotonic() - started, 3)}
    conn.close()
    out["seconds"] = round(time.monotonic() - started, 3)
    return out


def parse_reply(raw, openid, safe, problems, *, token, key, appid, account_id):
    """The app's reply to a push, as the user's phone would take it; what WeChat would refuse
    is added to `problems` (None when the user would see nothing)."""
    root = ET.fromstring(raw)
    if root.tag != "xml":
        raise ValueError(f"root element is <{root.tag}>, not <xml>")
    if safe:
        fields = {name: root.findtext(name) for name in ("Encrypt", "MsgSignature", "TimeStamp", "Nonce")}
        missing = [name for name, value in fields.items() if not value]
        if missing:
            problems.append(f"safe-mode reply lacks {', '.join(missing)}; {USER_UNAVAILABLE}")
            return None
        expected = signature(token, fields["TimeStamp"], fields["Nonce"], fields["Encrypt"])
        if fields["MsgSignature"] != expected:
            problems.append(f"reply MsgSignature is wrong; {USER_UNAVAILABLE}")
            return None
        msg, appid = decrypt(key, fields["Encrypt"])
        if appid != appid:
            problems.append(f"reply was encrypted for appid {appid!r}, not {appid!r}; {USER_UNAVAILABLE}")
            return None
        root = ET.fromstring(msg)
        if root.tag != "xml":
            raise ValueError(f"decrypted root element is <{root.tag}>, not <xml>")
    elif root.find("Encrypt") is not None:
        problems.append("encrypted reply to a plaintext push")
    reply = {"to": root.findtext("ToUserName"), "from": root.findtext("FromUserName"),
             "msg_type": root.findtext("MsgType"), "content": root.findtext("Content"),
             "create_time": root.findtext("CreateTime")}
    if reply["to"] != openid:
        problems.append(f"reply ToUserName is {reply['to']!r}, expected the user's openid {openid!r}")
    if reply["from"] != account_id:
        problems.append(f"reply FromUserName is {reply['from']!r}, expected the account id {account_id!r}")
    if reply["msg_type"] != "text":
        problems.append(f"reply MsgType is {reply['msg_type']!r}, expected 'text'")
    elif reply["content"] is None:
        problems.append("text reply has no Content")
    if (reply["create_time"] or "").strip().isdigit():
        reply["create_time"] = int(reply["create_time"])
    else:
        problems.append(f"reply CreateTime {reply['create_time']!r} is not a number")
    return reply
