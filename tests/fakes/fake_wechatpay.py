#!/usr/bin/env python3
"""A fake WeChat Pay API v3 server (api.mch.weixin.qq.com) for Native (QR) payment: it verifies the
merchant's request signatures, signs every response with its "WeChat Pay public key" pair and sends
AES-256-GCM encrypted, signed payment notifications with WeChat's retries. See README.md here.

Needs only python3 and python3-cryptography.
"""
import base64
import hashlib
import json
import re
import secrets
import sys
import time
import urllib.parse
from datetime import datetime

from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from fake_pay_common import (PayFake, load_or_generate_key, load_public_key, now_cst, parser,
                             random_digits, random_text, rsa_sign, rsa_verify, serve, write_public_key)

# WeChat's own schedule after a failed notification, about 24 h in all.
WECHAT_RETRIES = "15,15,30,180,600,1200,1800,1800,1800,3600,10800,10800,10800,21600,21600"
OUT_TRADE_NO = re.compile(r"^[0-9A-Za-z_\-|*]{6,32}$")
NATIVE = "/v3/pay/transactions/native"
BY_OUT_TRADE_NO = re.compile(r"^/v3/pay/transactions/out-trade-no/([^/]+)(/close)?$")
BY_ID = re.compile(r"^/v3/pay/transactions/id/([^/]+)$")
WINDOW = 300  # seconds of clock skew WeChat Pay accepts either way
# Orders keep the shared states pending/paid/closed; WeChat names them so.
TRADE_STATE = {"pending": "NOTPAY", "paid": "SUCCESS", "closed": "CLOSED"}
STATE_DESC = {"NOTPAY": "订单未支付", "SUCCESS": "支付成功", "CLOSED": "订单已关闭"}
ERROR_CODES = {400: "PARAM_ERROR", 401: "SIGN_ERROR", 403: "NO_AUTH", 404: "ORDER_NOT_EXIST",
               429: "FREQUENCY_LIMITED", 500: "SYSTEM_ERROR", 502: "BANKERROR", 503: "SYSTEM_ERROR"}
ERROR_MESSAGES = {"SYSTEM_ERROR": "系统异常，请稍后重试", "FREQUENCY_LIMITED": "频率超限",
                  "NO_AUTH": "商户无权限", "BANKERROR": "银行系统异常"}


class ApiError(Exception):
    def __init__(self, status, code, message, detail=None):
        super().__init__(message)
        self.status, self.code, self.message, self.detail = status, code, message, detail

    def body(self):
        body = {"code": self.code, "message": self.message}
        if self.detail is not None:
            body["detail"] = self.detail
        return body


def nonce32():
    return secrets.token_hex(16).upper()


def rfc3339(dt):
    return dt.isoformat(timespec="seconds")


class WeChatPay(PayFake):
    NAME = "fake_wechatpay"
    FAULTS = ("forged_signature", "signature_probe", "replay", "wrong_amount", "wrong_mchid", "wrong_appid",
              "unknown_order", "stale_timestamp", "bad_ciphertext")

    def __init__(self, args):
        super().__init__(args)
        self.mchid, self.appid, self.serial = args.mchid, args.appid, args.serial
        self.merchant_key = load_public_key(args.merchant_public_key)
        self.platform_key = load_or_generate_key(args.platform_private_key)
        self.public_key_id = args.public_key_id
        self.api_v3_key = args.api_v3_key.encode()
        if len(self.api_v3_key) != 32:
            raise ValueError("--api-v3-key must be 32 bytes")
        self.stranger_key = load_or_generate_key(None)  # signs the forged notifications
        if args.platform_public_key_out:
            write_public_key(self.platform_key, args.platform_public_key_out)

    # signing ------------------------------------------------------------------------------

    def signed_headers(self, body, signature=None, timestamp=None):
        """Wechatpay-* headers over TIMESTAMP\\nNONCE\\nBODY\\n (an empty body still ends in \\n)."""
        ts, nonce = str(int(timestamp if timestamp is not None else time.time())), nonce32()
        message = f"{ts}\n{nonce}\n".encode() + body + b"\n"
        if signature == "missing":
            return [("Request-ID", random_text(32))]
        if signature == "forged":
            sig = rsa_sign(self.stranger_key, message)
        elif signature == "probe":  # WeChat's deliberate signature probe; must never verify
            sig = "WECHATPAY/SIGNTEST/" + base64.b64encode(secrets.token_bytes(256)).decode()
        else:
            sig = rsa_sign(self.platform_key, message)
        return [("Wechatpay-Nonce", nonce), ("Wechatpay-Signature", sig), ("Wechatpay-Timestamp", ts),
                ("Wechatpay-Serial", self.public_key_id),
                ("Wechatpay-Signature-Type", "WECHATPAY2-SHA256-RSA2048"), ("Request-ID", random_text(32))]

    def check_authorization(self, method, target, body, header):
        """WECHATPAY2-SHA256-RSA2048 over METHOD\\nPATH?QUERY\\nTIMESTAMP\\nNONCE\\nBODY\\n, as received."""
        scheme, _, rest = (header or "").strip().partition(" ")
        fields = dict(re.findall(r'(\w+)="([^"]*)"', rest))
        if scheme != "WECHATPAY2-SHA256-RSA2048" or not all(
                k in fields for k in ("mchid", "nonce_str", "signature", "timestamp", "serial_no")):
            raise ApiError(401, "SIGN_ERROR", "Http头Authorization值格式错误，请参考《微信支付商户REST API签名规则》",
                           {"field": "authorization", "location": "header"})
        if fields["mchid"] != self.mchid:
            raise ApiError(401, "SIGN_ERROR", "商户号与签名中的商户号不匹配", {"field": "mchid", "location": "authorization"})
        if fields["serial_no"] != self.serial:
            raise ApiError(401, "SIGN_ERROR", "商户证书序列号有误", {"field": "serial_no", "location": "authorization"})
        if not fields["timestamp"].isdigit() or abs(time.time() - int(fields["timestamp"])) > WINDOW:
            raise ApiError(401, "SIGN_ERROR", "签名中的时间戳已过期或超前",
                           {"field": "timestamp", "location": "authorization"})
        message = f"{method}\n{target}\n{fields['timestamp']}\n{fields['nonce_str']}\n".encode() + body + b"\n"
        if not rsa_verify(self.merchant_key, message, fields["signature"]):
            text = message.decode(errors="replace")
            raise ApiError(401, "SIGN_ERROR", "错误的签名，验签失败", {
                "detail": {"issue": "sign not match"}, "field": "signature", "location": "authorization",
                "sign_information": {"method": method, "sign_message_length": len(message),
                                     "truncated_sign_message": text[:100], "url": target}})

    # API --------------------------------------------------------------------------------------

    def handle(self, method, target, path, query, body, handler):
        fail = self.take_fail(path)
        if fail and fail["delay"]:
            time.sleep(fail["delay"])
        try:
            if fail and fail["status"]:
                code = fail["code"] or ERROR_CODES.get(fail["status"], "SYSTEM_ERROR")
                raise ApiError(fail["status"], code, ERROR_MESSAGES.get(code, "injected failure"))
            self.check_authorization(method, target, body, handler.headers.get("Authorization"))
            with self.lock:
                status, answer = self.api(method, path, query, body)
        except ApiError as e:
            status, answer = e.status, e.body()
        raw = json.dumps(answer, ensure_ascii=False, separators=(",", ":")).encode() if answer is not None else b""
        headers = self.signed_headers(raw, fail and fail["signature"])
        if raw:
            headers.append(("Content-Type", "application/json; charset=utf-8"))
        return status, headers, raw

    def api(self, method, path, query, body):
        m = BY_OUT_TRADE_NO.match(path)
        if path == NATIVE and method == "POST":
            return 200, self.native(self.json_body(body))
        if m and m.group(2) and method == "POST":
            return self.close(urllib.parse.unquote(m.group(1)), self.json_body(body))
        if m and method == "GET":
            self.check_query_mchid(query)
            return 200, self.transaction(self.find(urllib.parse.unquote(m.group(1))))
        if BY_ID.match(path) and method == "GET":
            self.check_query_mchid(query)
            tid = BY_ID.match(path).group(1)
            found = [o for o in self.orders.values() if o["transaction_id"] == tid and o["state"] == "paid"]
            if not found:
                raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
            return 200, self.transaction(found[0])
        raise ApiError(404, "NOT_FOUND", "请求的资源不存在")

    @staticmethod
    def json_body(body):
        try:
            value = json.loads(body)
            if isinstance(value, dict):
                return value
        except ValueError:
            pass
        raise ApiError(400, "PARAM_ERROR", "请求体不是合法的JSON")

    def check_query_mchid(self, query):
        if "mchid" not in query:
            raise ApiError(400, "PARAM_ERROR", "输入源“/query/mchid”映射到值字段“商户号”字符串规则校验失败，字段必填")
        if query["mchid"] != self.mchid:
            raise ApiError(403, "NO_AUTH", "商户号不匹配")

    def find(self, out_trade_no):
        order = self.orders.get(out_trade_no)
        if order is None:
            raise ApiError(404, "ORDER_NOT_EXIST", "订单不存在")
        return order

    def native(self, req):
        amount = req.get("amount") if isinstance(req.get("amount"), dict) else {}
        total, no = amount.get("total"), req.get("out_trade_no")
        for field, ok in (("appid", isinstance(req.get("appid"), str)), ("mchid", isinstance(req.get("mchid"), str)),
                          ("description", isinstance(req.get("description"), str)
                           and 0 < len(req.get("description", "")) <= 127),
                          ("out_trade_no", isinstance(no, str) and OUT_TRADE_NO.match(no)),
                          ("notify_url", isinstance(req.get("notify_url"), str)
                           and re.match(r"^https?://[^?#\s]+$", req.get("notify_url", ""))),
                          ("amount.total", isinstance(total, int) and not isinstance(total, bool) and total > 0),
                          ("amount.currency", amount.get("currency", "CNY") == "CNY")):
            if not ok:
                raise ApiError(400, "PARAM_ERROR", f"参数错误: {field}", {"field": field, "location": "body"})
        if req["mchid"] != self.mchid:
            raise ApiError(400, "MCH_NOT_EXISTS", "商户号不存在")
        if req["appid"] != self.appid:
            raise ApiError(400, "APPID_MCHID_NOT_MATCH", "appid和mch_id不匹配")
        expires_at = None
        if req.get("time_expire"):
            try:
                expires_at = max(datetime.fromisoformat(req["time_expire"]).timestamp(), time.time() + 60)
            except (TypeError, ValueError):
                raise ApiError(400, "PARAM_ERROR", "参数错误: time_expire", {"field": "time_expire"})
        digest = hashlib.sha256(json.dumps(req, sort_keys=True).encode()).hexdigest()
        order = self.orders.get(no)
        if order is not None:
            # A retried order with the same parameters gets the same code_url, as WeChat does.
            if order["state"] == "paid":
                raise ApiError(400, "ORDERPAID", "该订单已支付")
            if order["state"] == "closed":
                raise ApiError(400, "ORDER_CLOSED", "订单已关闭")
            if order["digest"] != digest:
                raise ApiError(400, "INVALID_REQUEST", "201 商户订单号重复")
            return {"code_url": order["code_url"]}
        self.orders[no] = {
            "out_trade_no": no, "appid": req["appid"], "mchid": req["mchid"], "description": req["description"],
            "attach": req.get("attach", ""), "notify_url": req["notify_url"], "total": total,
            "time_expire": req.get("time_expire"), "expires_at": expires_at, "state": "pending",
            "code_url": "weixin://wxpay/bizpayurl?pr=" + random_text(9), "digest": digest, "created": time.time(),
            "transaction_id": None, "success_time": None, "openid": None, "notify_id": None}
        return {"code_url": self.orders[no]["code_url"]}

    def close(self, no, req):
        if req.get("mchid") != self.mchid:
            raise ApiError(400, "PARAM_ERROR", "参数错误: mchid", {"field": "mchid", "location": "body"})
        order = self.find(no)
        if order["state"] == "paid":
            raise ApiError(400, "ORDERPAID", "订单已支付")
        order["state"] = "closed"
        return 204, None

    def transaction(self, order, **override):
        """The payments.Transaction model: the query answer and the notification plaintext."""
        o = dict(order, **override)
        state = TRADE_STATE[o["state"]]
        t = {"amount": {"payer_currency": "CNY", "total": o["total"]}, "appid": o["appid"], "mchid": o["mchid"],
             "out_trade_no": o["out_trade_no"], "promotion_detail": [], "scene_info": {"device_id": ""},
             "trade_state": state, "trade_state_desc": STATE_DESC[state]}
        if o["attach"]:
            t["attach"] = o["attach"]
        if state == "SUCCESS":
            t.update({"transaction_id": o["transaction_id"], "trade_type": "NATIVE", "bank_type": "OTHERS",
                      "success_time": o["success_time"], "payer": {"openid": o["openid"]}})
            t["amount"].update({"currency": "CNY", "payer_total": o["total"]})
        return t

    # payment and notification -------------------------------------------------------------

    def mark_paid(self, order, req):
        order.update(state="paid", success_time=rfc3339(now_cst()), openid="o" + random_text(27),
                     transaction_id="4200" + now_cst().strftime("%Y%m%d") + random_digits(16),
                     notify_id=secrets.token_hex(18))

    def notification(self, order, fault, req):
        if order["state"] != "paid":  # a fault about a pending order still claims it was paid
            order = dict(order)
            self.mark_paid(order, req)
        plain = self.transaction(order)
        if fault == "wrong_amount":
            plain["amount"]["total"] = plain["amount"]["payer_total"] = int(req.get("amount") or order["total"] + 1)
        elif fault == "wrong_mchid":
            plain["mchid"] = req.get("mchid") or "1900009" + random_digits(3)
        elif fault == "wrong_appid":
            plain["appid"] = req.get("appid") or "wx" + secrets.token_hex(8)
        nonce = random_text(12)
        sealed = AESGCM(self.api_v3_key).encrypt(nonce.encode(), json.dumps(plain, ensure_ascii=False,
                                                 separators=(",", ":")).encode(), b"transaction")
        if fault == "bad_ciphertext":
            sealed = bytes([sealed[0] ^ 0x01]) + sealed[1:]  # the GCM tag no longer matches
        notify_id = order["notify_id"] if fault is None else secrets.token_hex(18)
        event = {"id": notify_id, "create_time": order["success_time"], "resource_type": "encrypt-resource",
                 "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
                 "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                              "ciphertext": base64.b64encode(sealed).decode(), "associated_data": "transaction",
                              "nonce": nonce}}
        body = json.dumps(event, ensure_ascii=False, separators=(",", ":")).encode()
        signature = {"forged_signature": "forged", "signature_probe": "probe"}.get(fault)
        stamp = time.time() - int(req.get("age", 600)) if fault == "stale_timestamp" else None
        headers = dict(self.signed_headers(body, signature, stamp))
        headers.update({"Content-Type": "application/json", "User-Agent": "Mozilla/4.0",
                        "Pragma": "no-cache", "Accept": "*/*"})
        return {"method": "POST", "url": order["notify_url"], "headers": headers, "body": body}, notify_id

    @staticmethod
    def delivered(status, body):
        return status in (200, 204)  # the status decides, whatever the body says

    def public_order(self, order):
        o = {k: v for k, v in order.items() if k not in ("digest",)}
        o["trade_state"] = TRADE_STATE[order["state"]]
        o["expired"] = order["state"] == "pending" and self.expired(order)
        return o


def main():
    ap = parser(__doc__.splitlines()[0], WECHAT_RETRIES)
    ap.add_argument("--mchid", required=True)
    ap.add_argument("--appid", required=True)
    ap.add_argument("--serial", required=True, help="the merchant certificate serial chatd sends as serial_no")
    ap.add_argument("--merchant-public-key", required=True, help="PEM file that verifies the merchant's requests")
    ap.add_argument("--api-v3-key", required=True, help="32-byte APIv3 key that encrypts notifications")
    ap.add_argument("--platform-private-key", help="PEM; default: a fresh RSA-2048 key")
    ap.add_argument("--platform-public-key-out", help="where to write the WeChat Pay public key (PEM)")
    ap.add_argument("--public-key-id", default="PUB_KEY_ID_0114000000000000000000000000000001",
                    help="the Wechatpay-Serial of the WeChat Pay public key")
    args = ap.parse_args()
    try:
        fake = WeChatPay(args)
    except (OSError, ValueError) as e:
        ap.error(str(e))
    return serve(fake, args)


if __name__ == "__main__":
    sys.exit(main())
