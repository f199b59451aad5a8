#!/usr/bin/env python3
"""A fake Alipay open-platform gateway (openapi.alipay.com/gateway.do) for face-to-face precreate
(当面付): RSA2-verified requests, RSA2-signed responses over the exact *_response text, and signed
asynchronous notifications with Alipay's retries. See README.md here.

Needs only python3 and python3-cryptography.
"""
import json
import re
import secrets
import sys
import time
import urllib.parse
from datetime import datetime
from decimal import Decimal, InvalidOperation

from fake_pay_common import (CST, HttpError, PayFake, load_or_generate_key, load_public_key, now_cst, parser,
                             random_digits, rsa_sign, rsa_verify, serve, write_public_key)

# Alipay's own schedule after a reply other than "success": 4m, 10m, 10m, 1h, 2h, 6h, 15h.
ALIPAY_RETRIES = "240,600,600,3600,7200,21600,54000"
METHODS = ("alipay.trade.precreate", "alipay.trade.query", "alipay.trade.close", "alipay.trade.cancel")
TRADE_STATUS = {"pending": "WAIT_BUYER_PAY", "paid": "TRADE_SUCCESS", "closed": "TRADE_CLOSED"}
TIME_FORMAT = "%Y-%m-%d %H:%M:%S"


class GatewayError(Exception):
    """code/msg/sub_code/sub_msg as the gateway answers them; signed unless the app is unknown."""

    def __init__(self, code, sub_code, sub_msg, signed=True):
        super().__init__(sub_msg)
        msg = {"40001": "Missing Required Arguments", "40002": "Invalid Arguments", "40004": "Business Failed",
               "20000": "Service Currently Unavailable", "40006": "Insufficient Permissions"}.get(code, "Error")
        self.content = {"code": code, "msg": msg, "sub_code": sub_code, "sub_msg": sub_msg}
        self.signed = signed


def sign_content(params, drop):
    """Sorted k=v&... over raw values, without the names in drop and without empty values."""
    return "&".join(f"{k}={params[k]}" for k in sorted(params) if k not in drop and params[k] not in ("", None))


def yuan(value):
    """The amount as Alipay echoes it ("12.30"), or None when it is not 0.01..100000000 with ≤2 decimals."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or not Decimal("0.01") <= amount <= Decimal("100000000") \
            or amount != amount.quantize(Decimal("0.01")):
        return None
    return f"{amount:.2f}"


def timeout_seconds(biz):
    """timeout_express (1m..15d, 1c = today) or time_expire; the QR stays valid 2 h by default."""
    if biz.get("time_expire"):
        return datetime.strptime(biz["time_expire"], TIME_FORMAT).replace(tzinfo=CST).timestamp() - time.time()
    m = re.match(r"^(\d+)([mhdc])$", str(biz.get("timeout_express") or "120m"))
    if not m:
        raise ValueError("timeout_express")
    n, unit = int(m.group(1)), m.group(2)
    if unit == "c":
        end = now_cst().replace(hour=23, minute=59, second=59)
        return end.timestamp() - time.time()
    return n * {"m": 60, "h": 3600, "d": 86400}[unit]


class Alipay(PayFake):
    NAME = "fake_alipay"
    FAULTS = ("forged_signature", "replay", "wrong_amount", "wrong_app_id", "wrong_seller_id", "unknown_order")

    def __init__(self, args):
        super().__init__(args)
        self.app_id, self.seller_id = args.app_id, args.seller_id
        self.app_key = load_public_key(args.app_public_key)
        self.alipay_key = load_or_generate_key(args.alipay_private_key)
        self.stranger_key = load_or_generate_key(None)  # signs forged notifications and responses
        if args.alipay_public_key_out:
            write_public_key(self.alipay_key, args.alipay_public_key_out)

    # gateway ----------------------------------------------------------------------------------

    @staticmethod
    def params(query_text, body):
        """Common params may come in the URL (the Java SDK) or the form; both count, as at Alipay."""
        def parse(encoding):
            p = dict(urllib.parse.parse_qsl(query_text, keep_blank_values=True, encoding=encoding))
            p.update(urllib.parse.parse_qsl(body.decode("latin-1"), keep_blank_values=True, encoding=encoding))
            return p
        p = parse("utf-8")
        return parse("gbk") if p.get("charset", "").lower() == "gbk" else p

    def handle(self, method, target, path, query, body, handler):
        if not path.endswith("/gateway.do"):
            return 404, [("Content-Type", "text/html;charset=utf-8")], b"<html><body>404</body></html>"
        p = self.params(urllib.parse.urlsplit(target).query, body)
        api = p.get("method", "")
        fail = self.take_fail(path, api)
        if fail and fail["delay"]:
            time.sleep(fail["delay"])
        if fail and fail["status"] and fail["status"] != 200:
            return fail["status"], [("Content-Type", "text/html;charset=utf-8")], \
                f"<html><body>{fail['status']} injected</body></html>".encode()
        key = (api.replace(".", "_") + "_response") if re.match(r"^[a-z]+(\.[a-z_]+)+$", api) else "error_response"
        try:
            if fail and fail["status"] == 200:  # a gateway-side hiccup in Alipay's own words
                raise GatewayError("20000", fail["code"] or "isp.unknow-error", "系统繁忙")
            self.check_common(p, method)
            biz = self.biz(p)
            with self.lock:
                content = getattr(self, api.split(".")[-1])(p, biz)
            signed = True
        except GatewayError as e:
            content, signed = e.content, e.signed
        text = json.dumps(content, ensure_ascii=False, separators=(",", ":")).replace("/", "\\/")
        out = '{"' + key + '":' + text
        signature = fail and fail["signature"]
        if signed and signature != "missing":
            signer = self.stranger_key if signature in ("forged", "probe") else self.alipay_key
            out += ',"sign":"' + rsa_sign(signer, text.encode()) + '"'
        out += "}"
        return 200, [("Content-Type", "text/html;charset=utf-8")], out.encode()

    def check_common(self, p, http_method):
        for name, sub in (("app_id", "isv.missing-app-id"), ("method", "isv.missing-method"),
                          ("sign", "isv.missing-signature"), ("sign_type", "isv.missing-signature-type")):
            if not p.get(name):
                raise GatewayError("40001", sub, {"app_id": "缺少AppID参数", "method": "缺少方法名参数",
                                                  "sign": "缺少签名参数", "sign_type": "缺少签名类型"}[name],
                                   signed=name != "app_id")
        if p["app_id"] != self.app_id:
            raise GatewayError("40002", "isv.invalid-app-id", "无效的AppID参数", signed=False)
        if p["method"] not in METHODS:
            raise GatewayError("40002", "isv.invalid-method", "不存在的方法名")
        if p.get("format", "JSON").upper() != "JSON":
            raise GatewayError("40002", "isv.invalid-format", "无效的数据格式")
        if p.get("charset", "utf-8").lower() not in ("utf-8", "gbk"):
            raise GatewayError("40002", "isv.invalid-charset", "字符集错误")
        if p["sign_type"] != "RSA2":
            raise GatewayError("40002", "isv.invalid-signature-type", "无效签名类型")
        try:
            datetime.strptime(p.get("timestamp", ""), TIME_FORMAT)
        except ValueError:
            raise GatewayError("40002", "isv.invalid-timestamp", "非法的时间戳参数")
        content = sign_content(p, ("sign",))  # sign_type is part of a request's signed content
        if not rsa_verify(self.app_key, content.encode(p.get("charset", "utf-8")), p["sign"]):
            raise GatewayError("40002", "isv.invalid-signature",
                               "验签出错，建议检查签名字符串或签名私钥与应用公钥是否匹配，网关生成的验签字符串为：" + content)

    @staticmethod
    def biz(p):
        try:
            biz = json.loads(p.get("biz_content") or "{}")
            if isinstance(biz, dict):
                return biz
        except ValueError:
            pass
        raise GatewayError("40002", "isv.invalid-parameter", "参数无效: biz_content")

    def find(self, biz):
        """The trade, if Alipay knows it: a precreated QR is no trade until someone scans it."""
        if biz.get("trade_no"):
            found = [o for o in self.orders.values() if o["trade_no"] == biz["trade_no"]]
        else:
            found = [o for o in self.orders.values() if o["out_trade_no"] == biz.get("out_trade_no")]
        if not found or not found[0]["scanned"]:
            raise GatewayError("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        return self.settle(found[0])

    def settle(self, order):
        if order["state"] == "pending" and self.expired(order):
            order["state"] = "closed"  # Alipay closes an unpaid trade when its timeout passes
        return order

    def precreate(self, p, biz):
        no, amount = biz.get("out_trade_no"), yuan(biz.get("total_amount"))
        if not isinstance(no, str) or not 0 < len(no) <= 64 or amount is None or not biz.get("subject"):
            raise GatewayError("40004", "ACQ.INVALID_PARAMETER", "参数无效")
        try:
            ttl = timeout_seconds(biz)
        except ValueError:
            raise GatewayError("40004", "ACQ.INVALID_PARAMETER", "参数无效: timeout_express")
        order = self.orders.get(no)
        if order is not None:
            self.settle(order)
            if order["state"] == "paid":
                raise GatewayError("40004", "ACQ.TRADE_HAS_SUCCESS", "交易已被支付")
            if order["state"] == "closed":
                raise GatewayError("40004", "ACQ.TRADE_HAS_CLOSE", "交易已经关闭")
            if order["total_amount"] != amount or order["subject"] != biz["subject"]:
                raise GatewayError("40004", "ACQ.CONTEXT_INCONSISTENT", "交易信息被篡改")
        else:
            order = self.orders[no] = {
                "out_trade_no": no, "total_amount": amount, "subject": biz["subject"], "app_id": p["app_id"],
                "notify_url": p.get("notify_url", ""), "qr_code": "https://qr.alipay.com/bax0" + secrets.token_hex(10),
                "state": "pending", "scanned": False, "trade_no": "", "created": time.time(),
                "expires_at": time.time() + ttl, "gmt_create": "", "gmt_payment": "", "notify_id": "",
                "buyer_id": "2088" + random_digits(12), "buyer_logon_id": "159****" + random_digits(4)}
        return {"code": "10000", "msg": "Success", "out_trade_no": no, "qr_code": order["qr_code"]}

    def query(self, p, biz):
        o = self.find(biz)
        paid = o["state"] == "paid"
        answer = {"code": "10000", "msg": "Success", "buyer_logon_id": o["buyer_logon_id"],
                  "buyer_pay_amount": o["total_amount"] if paid else "0.00", "buyer_user_id": o["buyer_id"],
                  "invoice_amount": o["total_amount"] if paid else "0.00", "out_trade_no": o["out_trade_no"],
                  "point_amount": "0.00", "receipt_amount": o["total_amount"] if paid else "0.00",
                  "total_amount": o["total_amount"], "trade_no": o["trade_no"], "trade_status": TRADE_STATUS[o["state"]]}
        if paid:
            answer["send_pay_date"] = o["gmt_payment"]
            answer["fund_bill_list"] = [{"amount": o["total_amount"], "fund_channel": "ALIPAYACCOUNT"}]
        return answer

    def close(self, p, biz):
        o = self.find(biz)
        if o["state"] == "paid":
            raise GatewayError("40004", "ACQ.TRADE_STATUS_ERROR", "交易状态不合法")
        o["state"] = "closed"
        return {"code": "10000", "msg": "Success", "trade_no": o["trade_no"], "out_trade_no": o["out_trade_no"]}

    def cancel(self, p, biz):
        """Unlike close, cancel also ends a QR nobody has scanned yet; a paid trade is refunded."""
        o = self.orders.get(biz.get("out_trade_no") or "") or next(
            (x for x in self.orders.values() if biz.get("trade_no") and x["trade_no"] == biz["trade_no"]), None)
        if o is None:
            raise GatewayError("40004", "ACQ.TRADE_NOT_EXIST", "交易不存在")
        action = "refund" if o["state"] == "paid" else "close"
        o["state"] = "closed"
        answer = {"code": "10000", "msg": "Success", "out_trade_no": o["out_trade_no"], "retry_flag": "N",
                  "action": action}
        if o["trade_no"]:
            answer["trade_no"] = o["trade_no"]
        return answer

    # payment and notification -------------------------------------------------------------

    def scan(self, order):
        if not order["scanned"]:
            order.update(scanned=True, gmt_create=now_cst().strftime(TIME_FORMAT),
                         trade_no=now_cst().strftime("%Y%m%d") + "22001" + random_digits(15))

    def hook_scan(self, req):
        """The user scanned the QR but has not paid: from now on the trade exists (WAIT_BUYER_PAY)."""
        with self.lock:
            order = self.settle(self.order(req.get("out_trade_no")))
            if order["state"] != "pending":
                raise HttpError(409, "the order is not pending")
            self.scan(order)
            return {"order": self.public_order(order)}

    def mark_paid(self, order, req):
        self.scan(order)
        order.update(state="paid", gmt_payment=now_cst().strftime(TIME_FORMAT),
                     notify_id=now_cst().strftime("%Y%m%d") + "0022" + random_digits(10) + secrets.token_hex(8))

    def notification(self, order, fault, req):
        if order["state"] != "paid":  # a fault about a pending order still claims it was paid
            order = dict(order)
            self.mark_paid(order, req)
        charset = str(req.get("charset") or "utf-8")
        amount = order["total_amount"]
        if fault == "wrong_amount":
            amount = yuan(req.get("amount") or Decimal(amount) + Decimal("0.01"))
        app_id = str(req.get("app_id") or "2021" + random_digits(12)) if fault == "wrong_app_id" else self.app_id
        seller = str(req.get("seller_id") or "2088" + random_digits(12)) if fault == "wrong_seller_id" else self.seller_id
        params = {
            "gmt_create": order["gmt_create"], "charset": charset, "gmt_payment": order["gmt_payment"],
            "notify_time": now_cst().strftime(TIME_FORMAT), "subject": order["subject"],
            "buyer_id": order["buyer_id"], "invoice_amount": amount, "version": "1.0",
            "notify_id": order["notify_id"] if fault is None else secrets.token_hex(17),
            "fund_bill_list": json.dumps([{"amount": amount, "fundChannel": "ALIPAYACCOUNT"}], separators=(",", ":")),
            "notify_type": "trade_status_sync", "out_trade_no": order["out_trade_no"], "total_amount": amount,
            "trade_status": "TRADE_SUCCESS", "trade_no": order["trade_no"], "auth_app_id": app_id,
            "receipt_amount": amount, "point_amount": "0.00", "buyer_pay_amount": amount, "app_id": app_id,
            "seller_id": seller, "buyer_logon_id": order["buyer_logon_id"]}
        # Notifications are signed without sign and sign_type, unlike requests.
        content = sign_content(params, ("sign", "sign_type")).encode(charset)
        params["sign"] = rsa_sign(self.stranger_key if fault == "forged_signature" else self.alipay_key, content)
        params["sign_type"] = "RSA2"
        body = urllib.parse.urlencode(params, encoding=charset).encode()
        headers = {"Content-Type": f"application/x-www-form-urlencoded; charset={charset}",
                   "User-Agent": "Mozilla/4.0"}
        request = {"method": "POST", "url": order["notify_url"], "headers": headers, "body": body,
                   "charset": charset}
        return request, params["notify_id"]

    @staticmethod
    def delivered(status, body):
        return status == 200 and body == b"success"  # exactly these 7 bytes

    def public_order(self, order):
        o = dict(order)
        o["trade_status"] = TRADE_STATUS[order["state"]] if order["scanned"] else None
        o["expired"] = order["state"] == "pending" and self.expired(order)
        return o

    def hook_pay(self, req):
        with self.lock:
            self.settle(self.order(req.get("out_trade_no")))
        return super().hook_pay(req)


def main():
    ap = parser(__doc__.splitlines()[0], ALIPAY_RETRIES)
    ap.add_argument("--app-id", required=True)
    ap.add_argument("--app-public-key", required=True, help="PEM (or bare base64) that verifies the app's requests")
    ap.add_argument("--alipay-private-key", help="PEM; default: a fresh RSA-2048 key")
    ap.add_argument("--alipay-public-key-out", help="where to write the Alipay public key (PEM)")
    ap.add_argument("--seller-id", default="2088102146225135", help="the merchant's PID, sent as seller_id")
    args = ap.parse_args()
    try:
        fake = Alipay(args)
    except (OSError, ValueError) as e:
        ap.error(str(e))
    return serve(fake, args)


if __name__ == "__main__":
    sys.exit(main())
