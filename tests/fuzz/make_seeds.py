#!/usr/bin/env python3
"""Writes the seed corpora (corpus/<target>/seed-*) from the real protocols' examples: the
OpenAI stream, WeChat's pushes and safe mode, the payment channels' notifications, uploads as
browsers send them, chatd.conf, card codes and a PDF. Run once after changing it; the fuzzers'
own finds are merged next to these by `make fuzz`."""
import json
import os
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "integration"))
from pdf_sample import make_pdf  # noqa: E402


def chunk(delta=None, finish=None, usage=None):
    c = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1733380000, "model": "gpt-4o-mini",
         "choices": [{"index": 0, "delta": delta or {}, "finish_reason": finish}]}
    if usage:
        c["usage"] = usage
        c["choices"] = []
    return "data: " + json.dumps(c, ensure_ascii=False) + "\n\n"


STREAM = (chunk({"role": "assistant", "content": ""}) + chunk({"content": "Hello"}) + chunk({"content": ", 世界"}) +
          chunk(finish="stop") +
          chunk(usage={"prompt_tokens": 9, "completion_tokens": 3, "completion_tokens_details": {"reasoning_tokens": 0}}) +
          "data: [DONE]\n\n")
REASONING = (chunk({"reasoning_content": "Let me think."}) + chunk({"reasoning": "More."}) +
             chunk({"content": "<think>raw</think>\n\nAnswer"}) + "data: [DONE]\n\n")
STREAM_ERROR = 'data: {"error":{"message":"Rate limit reached","type":"requests","code":"rate_limit_exceeded"}}\n\n'
SSE_SHAPES = "\ufeff: keep-alive\r\nevent: message\r\nid: 7\r\ndata: a\r\ndata: b\r\n\r\nretry: 10\rdata\r\r"

XML_SUBSCRIBE = ("<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName><![CDATA[oUSER_OPENID]]></FromUserName>"
                 "<CreateTime>1648535359</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]>"
                 "</Event><EventKey><![CDATA[qrscene_login_3f9a]]></EventKey><Ticket><![CDATA[gQ1]]></Ticket></xml>")
XML_TEXT = ('<?xml version="1.0"?>\n<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><FromUserName>o&amp;1</FromUserName>'
            "<CreateTime>12345678</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[登录 ]]]]><![CDATA[>]]>"
            "</Content><MsgId>1234567890123456</MsgId><!-- note --><Empty/><A><B>&#x4e2d;&#20013;</B></A></xml>")
XML_SAFE = "<xml><ToUserName><![CDATA[gh_xxx]]></ToUserName><Encrypt><![CDATA[c2VhbGVkIGJ5dGVz]]></Encrypt></xml>"

TRANSACTION = {"appid": "wx0000000000000001", "mchid": "1900000001", "out_trade_no": "20241206ABCDEFGHJKMNPQRS",
               "transaction_id": "4200000001", "trade_type": "NATIVE", "trade_state": "SUCCESS",
               "success_time": "2024-01-01T12:01:02+08:00", "payer": {"openid": "o1"},
               "amount": {"total": 990, "payer_total": 990, "currency": "CNY"}}
WECHAT_NOTICE = {"id": "EV-2018022511223320873", "create_time": "2015-05-20T13:29:35+08:00",
                 "resource_type": "encrypt-resource", "event_type": "TRANSACTION.SUCCESS", "summary": "支付成功",
                 "resource": {"original_type": "transaction", "algorithm": "AEAD_AES_256_GCM",
                              "plaintext": json.dumps(TRANSACTION), "associated_data": "transaction",
                              "nonce": "5K8264ILTKCH"}}
EPAY_FORM = ("pid=1001&trade_no=2024120612345&out_trade_no=20241206ABCDEFGHJKMNPQRS&type=alipay&name=%E5%A5%97%E9%A4%90"
             "&money=9.90&trade_status=TRADE_SUCCESS&sign=0123456789abcdef0123456789abcdef&sign_type=MD5")
ALIPAY_FORM = ("notify_time=2024-01-01+12%3A01%3A02&notify_type=trade_status_sync&notify_id=ac05099524730693a8b330c5ecf72da9786"
               "&app_id=2021000000000001&charset=utf-8&version=1.0&sign_type=RSA2&sign=c2ln&trade_no=2024010122001"
               "&out_trade_no=20241206ABCDEFGHJKMNPQRS&trade_status=TRADE_SUCCESS&total_amount=9.90&receipt_amount=9.90"
               "&buyer_id=2088102122524333&subject=%E5%A5%97%E9%A4%90&gmt_payment=2024-01-01+12%3A01%3A02"
               "&fund_bill_list=%5B%7B%22amount%22%3A%229.90%22%2C%22fundChannel%22%3A%22ALIPAYACCOUNT%22%7D%5D")


def notify(channel, signed, method, query, headers, body):
    head = bytes([channel + 3 * signed])
    lines = [f"{method} {query}"] + [f"{k}: {v}" for k, v in headers] + ["", body]
    return head + "\n".join(lines).encode()


def multipart(fields, boundary="----chatdtestb0undary"):
    body = b"preamble\r\n"
    for name, filename, ctype, data in fields:
        body += f"--{boundary}\r\n".encode()
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"Content-Disposition: {disp}\r\n".encode()
        if ctype:
            body += f"Content-Type: {ctype}\r\n".encode()
        body += b"\r\n" + data + b"\r\n"
    body += f"--{boundary}--\r\nepilogue".encode()
    return f"multipart/form-data; boundary={boundary}\n".encode() + body


def context_seed(*parts):
    return bytes(parts)


SEEDS = {
    "sse_parser": [STREAM, REASONING, STREAM_ERROR, SSE_SHAPES],
    "chat_stream": [STREAM, REASONING, STREAM_ERROR, chunk({"content": "x"}, usage=None) + "data: {oops\n\n"],
    "think_splitter": ["\x03<think>Let me see.</think>\n\nThe answer.", "\x00  <think>unclosed", "\x05plain <think> text",
                       "\x01<thi", "\x02</think>answer"],
    "jsonrpc": ['{"jsonrpc":"2.0","method":"echo","params":{"text":"hi","n":3,"flag":true},"id":1}',
                '[{"jsonrpc":"2.0","method":"echo","params":{"text":"a"},"id":"x"},{"jsonrpc":"2.0","method":"fails","id":2},'
                '{"jsonrpc":"2.0","method":"throws","id":3},{"jsonrpc":"2.0","method":"echo","params":{}},{"foo":"boo"},1]',
                '{"jsonrpc":"2.0","method":"admin.thing","params":[1,2],"id":null} ',
                '{"jsonrpc":"2.0","method":"needs_user","id":4}', '[]', '{"jsonrpc": "2.0", "method": "foobar, "params": "bar", "baz]'],
    "wechat_xml": [XML_SUBSCRIBE, XML_TEXT, XML_SAFE,
                   '<xml><Encrypt><![CDATA[x]]></Encrypt><MsgSignature><![CDATA[y]]></MsgSignature><TimeStamp>1</TimeStamp></xml>'],
    "wechat_crypto": ["", "<xml><Content>hi</Content></xml>", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG",
                      "token\n1648535359\nnonce\nc2VhbGVk"],
    "pay_form": [EPAY_FORM, ALIPAY_FORM, "9.90", "12", "0.5", "a=%zz&&=b&c&d=%E4%B8%AD+x"],
    "pay_notify": [notify(0, 1, "GET", EPAY_FORM, [], ""), notify(0, 0, "POST", "", [], EPAY_FORM),
                   notify(1, 1, "POST", "", [("Content-Type", "application/x-www-form-urlencoded")], ALIPAY_FORM),
                   notify(1, 0, "GET", ALIPAY_FORM, [], ""),
                   notify(2, 1, "POST", "", [("Content-Type", "application/json")], json.dumps(WECHAT_NOTICE, ensure_ascii=False)),
                   notify(2, 0, "POST", "", [("Wechatpay-Timestamp", "1733380000"), ("Wechatpay-Nonce", "n"),
                                             ("Wechatpay-Serial", "PUB_KEY_ID_0001"), ("Wechatpay-Signature", "WECHATPAY/SIGNTEST/x")],
                          json.dumps(WECHAT_NOTICE))],
    "multipart": [multipart([("file", "notes.txt", "text/plain", "第一行\n".encode())]),
                  multipart([("file", "C:\\dir\\a.png", "image/png", b"\x89PNG\r\n\x1a\n\x00\r"), ("purpose", None, None, b"chat")]),
                  b'multipart/form-data; boundary="quoted b"\n--quoted b\r\nContent-Disposition: form-data; name="f"; '
                  b"filename*=UTF-8''%E4%B8%AD.txt\r\n\r\nx\r\n--quoted b--\r\n"],
    "config": [open(os.path.join(HERE, "..", "..", "etc", f), "rb").read() for f in ("chatd.conf", "chatd.dev.conf")] +
              ["listen = 127.0.0.1:8080\n[upstream]\nbase_url = https://api.openai.com/v1\n[pay.epay]\npid = 1\n",
               "; comment\n# another\n\n[store]\nbackend = sqlite\nlisten=[::1]:0\nlisten = twice\n"],
    "card_code": ["ABCD-EFGH-JKMN-PQRS", "abcd efgh jkmn pqrs", "0O1I-L234-5678-9XYZ", "ABCD-EFGH-JKMN-PQR"],
    "pdf_text": [make_pdf(["Hello from a PDF", "Second line (with parens)"]), make_pdf([""]), b"%PDF-1.4\n%%EOF\n"],
    "context": [context_seed(3, 0, 0, 40, 1, 0, 5, 0x41, 0x42, 1, 2, 0x43, 0, 1, 1, 4, 0x44, 0x45),
                context_seed(20, 0, 0, 0, 0, 1, 200, 1, 1, 200, 3, 9, 9, 1, 0, 0, 0)],
}

for target, seeds in SEEDS.items():
    folder = os.path.join(HERE, "corpus", target)
    os.makedirs(folder, exist_ok=True)
    for n, seed in enumerate(seeds):
        data = seed.encode() if isinstance(seed, str) else seed
        with open(os.path.join(folder, f"seed-{n}"), "wb") as f:
            f.write(data)
print("wrote", sum(len(s) for s in SEEDS.values()), "seeds for", len(SEEDS), "targets")
