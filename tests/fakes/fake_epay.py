#!/usr/bin/env python3
"""A fake 易支付 (epay, 彩虹易支付-compatible) aggregator: submit.php, mapi.php and api.php with MD5
signatures, and signed payment notifications by GET or POST with retries. See README.md here.

Needs only python3.
"""
import hashlib
import html
import re
import secrets
import sys
import time
import urllib.parse
from decimal import Decimal, InvalidOperation

from fake_pay_common import PayFake, now_cst, parser, random_digits, random_text, serve

# Roughly 彩虹易支付's cron after a failed notification: 1 min, 3 min, 20 min, 1 h, 2 h.
EPAY_RETRIES = "60,180,1200,3600,7200"
TYPES = ("alipay", "wxpay", "qqpay", "bank", "jdpay")
CASHIER = re.compile(r"^/pay/(\w+)/?$")


def md5_sign(params, key):
    """md5(sorted non-empty k=v&... without sign/sign_type, then the key appended directly)."""
    text = "&".join(f"{k}={params[k]}" for k in sorted(params)
                    if k not in ("sign", "sign_type") and params[k] not in ("", None))
    return hashlib.md5((text + key).encode()).hexdigest()


def money_text(value):
    """'1', '1.0', '1.00' → '1.00'; None when not a positive amount."""
    try:
        amount = Decimal(str(value).strip())
    except (InvalidOperation, ValueError):
        return None
    if not amount.is_finite() or amount <= 0 or amount != amount.quantize(Decimal("0.01")):
        return None
    return f"{amount:.2f}"


class EPay(PayFake):
    NAME = "fake_epay"
    FAULTS = ("forged_signature", "replay", "wrong_amount", "wrong_pid", "unknown_order")

    def __init__(self, args):
        super().__init__(args)
        self.pid, self.key = args.pid, args.key
        self.notify_method = args.notify_method
        self.mapi_field = args.mapi_field

    # API --------------------------------------------------------------------------------------

    def handle(self, method, target, path, query, body, handler):
        fail = self.take_fail(path)
        if fail and fail["delay"]:
            time.sleep(fail["delay"])
        if fail and fail["status"]:
            return fail["status"], [("Content-Type", "text/html; charset=utf-8")], \
                f"<html><body><h1>{fail['status']} injected</h1></body></html>".encode()
        form = {}
        if method == "POST" and "form" in (handler.headers.get("Content-Type") or "").lower():
            form = dict(urllib.parse.parse_qsl(body.decode("utf-8", "replace"), keep_blank_values=True))
        host = handler.headers.get("Host") or "127.0.0.1"
        name = path.rsplit("/", 1)[-1]
        with self.lock:
            if name == "mapi.php" and method == "POST":
                return 200, [], self.mapi(form, host)  # 彩虹 reads mapi.php from $_POST only
            if name == "submit.php":
                return self.page(*self.submit(dict(query, **form), host))
            if name == "api.php":
                return 200, [], self.api(dict(query, **form))
            m = CASHIER.match(path)
            if m and m.group(1) in {o["trade_no"] for o in self.orders.values()}:
                return self.page("收银台", self.cashier_text(m.group(1)))
        return 404, [("Content-Type", "text/html; charset=utf-8")], b"<html><body>404 Not Found</body></html>"

    @staticmethod
    def page(title, text):
        page = (f"<!DOCTYPE html><html><head><meta charset=\"utf-8\"><title>{html.escape(title)}</title></head>"
                f"<body><h1>{html.escape(title)}</h1><p>{html.escape(text)}</p></body></html>")
        return 200, [("Content-Type", "text/html; charset=utf-8")], page.encode()

    def create(self, p, via):
        """The checks 彩虹's submit.php and mapi.php make, in their order; returns (order, error)."""
        for field, message in (("pid", "PID不存在"), ("type", "支付方式(type)不能为空"),
                               ("out_trade_no", "订单号(out_trade_no)不能为空"),
                               ("notify_url", "通知地址(notify_url)不能为空"), ("name", "商品名称(name)不能为空"),
                               ("money", "金额(money)不能为空"), ("sign", "签名(sign)不能为空")):
            if not p.get(field):
                return None, message
        money = money_text(p["money"])
        if money is None:
            return None, "金额不合法"
        if p["pid"] != self.pid:
            return None, "商户不存在！"
        if p.get("sign_type", "MD5") != "MD5" or not secrets.compare_digest(p["sign"], md5_sign(p, self.key)):
            return None, "签名校验失败，请返回重试！"
        if p["type"] not in TYPES:
            return None, "支付方式(type)不存在"
        order = self.orders.get(p["out_trade_no"])
        if order is not None:
            if order["state"] == "paid":
                return None, "该订单已完成支付，请勿重复支付"
            if order["money"] != money or order["type"] != p["type"]:
                return None, "该订单号已存在，请更换订单号"
            return order, None  # the same order asked again: the same trade
        order = {"out_trade_no": p["out_trade_no"], "trade_no": now_cst().strftime("%Y%m%d%H%M%S") + random_digits(5),
                 "api_trade_no": "", "type": p["type"], "pid": self.pid, "name": p["name"], "money": money,
                 "notify_url": p["notify_url"], "return_url": p.get("return_url", ""), "param": p.get("param", ""),
                 "clientip": p.get("clientip", ""), "device": p.get("device", ""), "via": via, "state": "pending",
                 "addtime": now_cst().strftime("%Y-%m-%d %H:%M:%S"), "endtime": None, "buyer": "",
                 "created": time.time(), "notify_method": None, "expires_at": None}
        self.orders[order["out_trade_no"]] = order
        return order, None

    def mapi(self, form, host):
        order, error = self.create(form, "mapi")
        if error:
            return {"code": -1, "msg": error}
        answer = {"code": 1, "msg": "success", "trade_no": order["trade_no"]}
        if self.mapi_field == "payurl":
            answer["payurl"] = f"http://{host}/pay/{order['trade_no']}/"
        elif self.mapi_field == "urlscheme":
            answer["urlscheme"] = "weixin://dl/business/?t=" + random_text(12)
        elif order["type"] == "wxpay":
            answer["qrcode"] = "weixin://wxpay/bizpayurl?pr=" + random_text(9)
        else:
            answer["qrcode"] = "https://qr.alipay.com/bax0" + random_text(20).lower()
        return answer

    def submit(self, params, host):
        order, error = self.create(params, "submit")
        if error:
            return "站点提示信息", error
        return "收银台", self.cashier_text(order["trade_no"])

    def cashier_text(self, trade_no):
        order = next(o for o in self.orders.values() if o["trade_no"] == trade_no)
        done = "已支付" if order["state"] == "paid" else "请扫码支付"
        return f"订单号 {order['trade_no']} 商品 {order['name']} 金额 ¥{order['money']} {done}"

    def api(self, q):
        if q.get("act") != "order":
            return {"code": -5, "msg": "No Act!"}
        if q.get("pid") != self.pid or not secrets.compare_digest(q.get("key", ""), self.key):
            return {"code": -3, "msg": "KEY校验失败"}
        if q.get("trade_no"):
            found = [o for o in self.orders.values() if o["trade_no"] == q["trade_no"]]
        else:
            found = [o for o in self.orders.values() if o["out_trade_no"] == q.get("out_trade_no")]
        if not found:
            return {"code": -1, "msg": "订单号不存在"}
        o = found[0]
        return {"code": 1, "msg": "查询订单号成功！", "trade_no": o["trade_no"], "out_trade_no": o["out_trade_no"],
                "api_trade_no": o["api_trade_no"], "type": o["type"], "pid": o["pid"], "addtime": o["addtime"],
                "endtime": o["endtime"], "name": o["name"], "money": o["money"],
                "status": 1 if o["state"] == "paid" else 0, "param": o["param"], "buyer": o["buyer"]}

    # payment and notification -------------------------------------------------------------

    def mark_paid(self, order, req):
        order.update(state="paid", endtime=now_cst().strftime("%Y-%m-%d %H:%M:%S"),
                     api_trade_no="2024" + random_digits(24), buyer="1" + random_digits(15))
        if req.get("method"):
            order["notify_method"] = str(req["method"]).upper()

    def hook_config(self, req):
        """{"notify_method": "GET"|"POST", "mapi_field": "qrcode"|"payurl"|"urlscheme"}"""
        with self.lock:
            if req.get("notify_method") in ("GET", "POST"):
                self.notify_method = req["notify_method"]
            if req.get("mapi_field") in ("qrcode", "payurl", "urlscheme"):
                self.mapi_field = req["mapi_field"]
            return {"notify_method": self.notify_method, "mapi_field": self.mapi_field}

    def notification(self, order, fault, req):
        params = {"pid": self.pid, "trade_no": order["trade_no"], "out_trade_no": order["out_trade_no"],
                  "type": order["type"], "name": order["name"], "money": order["money"],
                  "trade_status": "TRADE_SUCCESS"}
        if order["param"]:
            params["param"] = order["param"]
        if fault == "wrong_amount":
            params["money"] = money_text(req.get("money") or Decimal(order["money"]) + Decimal("0.01"))
        elif fault == "wrong_pid":
            params["pid"] = str(req.get("pid") or self.pid + "9")
        params["sign"] = md5_sign(params, self.key if fault != "forged_signature" else "not-" + self.key)
        params["sign_type"] = "MD5"
        method = (req.get("method") or order["notify_method"] or self.notify_method).upper()
        encoded = urllib.parse.urlencode(params)
        headers = {"User-Agent": "Mozilla/5.0 (epay notify)", "Accept": "*/*"}
        if method == "GET":
            url = order["notify_url"] + ("&" if "?" in order["notify_url"] else "?") + encoded
            request = {"method": "GET", "url": url, "headers": headers, "body": b""}
        else:
            headers["Content-Type"] = "application/x-www-form-urlencoded"
            request = {"method": "POST", "url": order["notify_url"], "headers": headers, "body": encoded.encode()}
        request["params"] = params
        return request, order["trade_no"]  # epay has no notify id: the trade number stands for it

    @staticmethod
    def delivered(status, body):
        return status == 200 and b"success" in body  # 彩虹 looks for "success" anywhere in the reply

    def public_order(self, order):
        o = dict(order)
        o["status"] = 1 if order["state"] == "paid" else 0
        return o


def main():
    ap = parser(__doc__.splitlines()[0], EPAY_RETRIES)
    ap.add_argument("--pid", required=True, help="the merchant id")
    ap.add_argument("--key", required=True, help="the merchant key (MD5 secret)")
    ap.add_argument("--notify-method", choices=("GET", "POST"), default="GET")
    ap.add_argument("--mapi-field", choices=("qrcode", "payurl", "urlscheme"), default="qrcode",
                    help="what mapi.php answers with")
    args = ap.parse_args()
    return serve(EPay(args), args)


if __name__ == "__main__":
    sys.exit(main())
