"""Attachments (CONTRACT §10) against a real chatd: POST /api/upload with its limits and errors,
owner-only GET /api/files/{id}, PDF text, images reaching a vision model byte-exact as data URLs,
image_cost charged and refunded, files removed with their conversation."""
import base64
import json
import os
import uuid
import zlib
import struct

from harness import ChatdTestCase, RpcError, main, wait_for
from pdf_sample import make_pdf


def png(width=2, height=2, seed=0):
    """A real PNG (the signature, IHDR, IDAT, IEND with correct CRCs)."""
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xffffffff)
    raw = b"".join(b"\x00" + bytes((seed + x + y) % 256 for x in range(width * 3)) for y in range(height))
    return (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)) +
            chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))


def multipart(fields):
    """fields: [(name, filename, content_type, bytes)] → (content type header, body)."""
    boundary = "----chatdtest" + uuid.uuid4().hex
    body = bytearray()
    for name, filename, ctype, data in fields:
        body += f"--{boundary}\r\n".encode()
        disp = f'form-data; name="{name}"' + (f'; filename="{filename}"' if filename is not None else "")
        body += f"Content-Disposition: {disp}\r\nContent-Type: {ctype}\r\n\r\n".encode() + data + b"\r\n"
    body += f"--{boundary}--\r\n".encode()
    return f"multipart/form-data; boundary={boundary}", bytes(body)


class UploadTest(ChatdTestCase):
    extra_conf = "[uploads]\nmax_bytes = 200000\n"

    def upload(self, client, filename, data, ctype="application/octet-stream", name="file", origin=True):
        header, body = multipart([(name, filename, ctype, data)])
        status, headers, reply = client.http("POST", "/api/upload", body, {"Content-Type": header}, origin=origin)
        return status, json.loads(reply) if reply else None

    def test_upload_types_limits_and_errors(self):
        c = self.chatd.client()
        status, body = self.upload(c, "a.png", png())
        self.assertEqual(status, 401)
        self.assertEqual(body["error"]["reason"], "unauthorized")
        c.register("uploader")
        status, img = self.upload(c, "photo.png", png())
        self.assertEqual(status, 200, img)
        self.assertEqual((img["name"], img["mime"], img["kind"], img["size"]), ("photo.png", "image/png", "image",
                                                                                  len(png())))
        self.assertTrue(img["id"])
        status, md = self.upload(c, "notes.md", "# 标题\n\nsome *notes*\n".encode())
        self.assertEqual(status, 200, md)
        self.assertEqual((md["kind"], md["chars"]), ("file", len("# 标题\n\nsome *notes*\n")))
        status, pdf = self.upload(c, "paper.pdf", make_pdf(["Quarterly report", "Revenue grew by 42 percent"]))
        self.assertEqual(status, 200, pdf)
        self.assertEqual((pdf["kind"], pdf["mime"]), ("file", "application/pdf"))
        self.assertGreater(pdf["chars"], 20)
        # Refused: another type, a file too large, a text file that is not UTF-8, no part named file.
        status, body = self.upload(c, "program.exe", b"MZ\x90\x00" + bytes(200))
        self.assertEqual((status, body["error"]["reason"]), (415, "unsupported_type"))
        status, body = self.upload(c, "fake.png", b"not a picture at all")
        self.assertEqual((status, body["error"]["reason"]), (415, "unsupported_type"))
        status, body = self.upload(c, "latin1.txt", "café".encode("latin-1"))
        self.assertEqual((status, body["error"]["reason"]), (415, "unsupported_type"))
        status, body = self.upload(c, "big.txt", b"a" * 250000)
        self.assertEqual((status, body["error"]["reason"]), (413, "too_large"))
        status, body = self.upload(c, "x.txt", b"hello", name="document")
        self.assertEqual((status, body["error"]["reason"]), (400, "invalid_params"))
        status, _ = self.upload(c, "x.txt", b"hello", origin=False)
        self.assertEqual(status, 403)
        # A body far over the limit is refused from its Content-Length, before it is read.
        status, _, reply = c.http("POST", "/api/upload", b"x" * 400000, {"Content-Type": "multipart/form-data; boundary=x"})
        self.assertEqual(status, 413)
        self.assertEqual(json.loads(reply)["error"]["reason"], "too_large")

    def test_files_are_served_to_their_owner_only(self):
        owner, other = self.chatd.client(), self.chatd.client()
        owner.register("owner")
        other.register("other")
        data = png(seed=7)
        _, img = self.upload(owner, "p.png", data)
        status, headers, body = owner.http("GET", f"/api/files/{img['id']}")
        self.assertEqual(status, 200)
        self.assertEqual(body, data)
        self.assertEqual(headers["content-type"], "image/png")
        self.assertEqual(headers["x-content-type-options"], "nosniff")
        for who in (other, self.chatd.client()):
            status, _, _ = who.http("GET", f"/api/files/{img['id']}")
            self.assertIn(status, (401, 404))
        status, _, _ = other.http("GET", f"/api/files/{img['id']}")
        self.assertEqual(status, 404)
        # An admin reads users' files (the conversation logs show them).
        self.chatd.ctl("admin", "add", "boss", input="boss password 123\n")
        admin = self.chatd.client()
        admin.rpc("auth.password.login", {"username": "boss", "password": "boss password 123"})
        status, _, body = admin.http("GET", f"/api/files/{img['id']}")
        self.assertEqual((status, body), (200, data))
        status, _, _ = owner.http("GET", "/api/files/nosuchfile")
        self.assertEqual(status, 404)
        _, html = self.upload(owner, "page.html", b"<script>alert(1)</script>")
        status, headers, _ = owner.http("GET", f"/api/files/{html['id']}")
        self.assertEqual(status, 200)
        self.assertTrue(headers["content-type"].startswith("text/plain"))
        self.assertTrue(headers["content-disposition"].startswith("attachment"))

    def test_images_reach_a_vision_model_as_data_urls_and_cost_extra(self):
        key, _ = self.add_key("ok", tokens=3)
        c = self.chatd.client()
        c.register("looker")
        data = png(4, 3, seed=3)
        _, img = self.upload(c, "look.png", data)
        with self.assertRaises(RpcError) as refused:
            c.ask("what is this?", attachments=[img["id"]])
        self.assertEqual(refused.exception.reason, "invalid_params")
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 10, "nothing charged for a refused question")
        self.chatd.ctl("models", "set", "gpt-4o-mini", "--vision", "--image-cost", "2")
        sent, _, final = c.answer("what is this?", attachments=[img["id"]])
        done = json.loads(final[2])
        self.assertEqual(done["charged"], 3)
        self.assertEqual(done["balance"]["trial"], 7)
        content = self.fake.last_body(key)["messages"][-1]["content"]
        self.assertEqual(content[0], {"type": "text", "text": "what is this?"})
        url = content[1]["image_url"]["url"]
        self.assertTrue(url.startswith("data:image/png;base64,"))
        self.assertEqual(base64.b64decode(url.split(",", 1)[1]), data)
        conv = c.rpc("conversations.get", {"id": sent["conversation_id"]})
        question = [m for m in conv["messages"] if m["id"] == sent["user_message_id"]][0]
        self.assertEqual(question["attachments"], [{"id": img["id"], "name": "look.png", "mime": "image/png",
                                                     "size": len(data), "kind": "image"}])
        # A failed answer gives the images' credits back too.
        self.chatd.ctl("keys", "disable", "1")
        self.add_key("error", status=503)
        sent2 = c.ask("again", attachments=[img["id"]], conversation_id=sent["conversation_id"])
        err = c.stream(sent2["message_id"])[-1]
        self.assertEqual(err[0], "error")
        self.assertTrue(json.loads(err[2])["refunded"])
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], 7)
        # Limits: at most four images; someone else's upload is not yours to send.
        ids = [self.upload(c, f"{i}.png", png(seed=i))[1]["id"] for i in range(5)]
        with self.assertRaises(RpcError) as many:
            c.ask("five", attachments=ids)
        self.assertEqual(many.exception.reason, "invalid_params")
        thief = self.chatd.client()
        thief.register("thief")
        with self.assertRaises(RpcError) as stolen:
            thief.ask("mine now", attachments=[img["id"]])
        self.assertEqual(stolen.exception.reason, "invalid_params")

    def test_regenerate_keeps_or_replaces_the_questions_attachments(self):
        key, _ = self.add_key("ok", tokens=2)
        c = self.chatd.client()
        c.register("again")
        _, notes = self.upload(c, "notes.txt", b"the first notes")
        sent, _, _ = c.answer("read", attachments=[notes["id"]])
        again = c.rpc("chat.regenerate", {"message_id": sent["message_id"]})
        c.stream(again["message_id"])
        self.assertIn("the first notes", self.fake.last_body(key)["messages"][-1]["content"])
        # Images on a model without vision are refused before anything is charged.
        _, img = self.upload(c, "p.png", png(seed=5))
        before = c.rpc("me.get")["balance"]["trial"]
        with self.assertRaises(RpcError) as refused:
            c.rpc("chat.regenerate", {"message_id": again["message_id"], "attachments": [img["id"]]})
        self.assertEqual(refused.exception.reason, "invalid_params")
        self.assertEqual(c.rpc("me.get")["balance"]["trial"], before)
        # Given attachments replace the question's own.
        self.chatd.ctl("models", "set", "gpt-4o-mini", "--vision")
        third = c.rpc("chat.regenerate", {"message_id": again["message_id"], "attachments": [img["id"]]})
        c.stream(third["message_id"])
        content = self.fake.last_body(key)["messages"][-1]["content"]
        self.assertEqual(content[0], {"type": "text", "text": "read"})
        self.assertTrue(content[1]["image_url"]["url"].startswith("data:image/png;base64,"))
        self.assertNotIn("the first notes", json.dumps(content))
        conv = c.rpc("conversations.get", {"id": sent["conversation_id"]})
        question = [m for m in conv["messages"] if m["id"] == sent["user_message_id"]][0]
        self.assertEqual([a["id"] for a in question["attachments"]], [img["id"]])

    def test_file_text_goes_into_the_question(self):
        key, _ = self.add_key("ok", tokens=2)
        c = self.chatd.client()
        c.register("reader")
        _, pdf = self.upload(c, "report.pdf", make_pdf(["Quarterly report", "Revenue grew by 42 percent"]))
        _, csv = self.upload(c, "data.csv", b"city,people\nParis,2100000\n", "text/csv")
        c.answer("summarise", attachments=[pdf["id"], csv["id"]])
        question = self.fake.last_body(key)["messages"][-1]["content"]
        self.assertIsInstance(question, str)
        self.assertTrue(question.startswith("summarise"))
        self.assertIn("report.pdf", question)
        self.assertIn("Revenue grew by 42 percent", question)
        self.assertIn("data.csv", question)
        self.assertIn("Paris,2100000", question)
        # The sensitive-word filter reads file text too.
        self.chatd.ctl("settings", "set", "content.sensitive_words", "forbiddenword")
        _, bad = self.upload(c, "bad.txt", b"this has forbiddenword inside")
        with self.assertRaises(RpcError) as blocked:
            c.ask("read it", attachments=[bad["id"]])
        self.assertEqual(blocked.exception.reason, "content_blocked")

    def test_files_go_with_their_conversation(self):
        self.add_key("ok", tokens=2)
        c = self.chatd.client()
        c.register("tidy")
        data = png(seed=11)
        _, img = self.upload(c, "p.png", data)
        self.chatd.ctl("models", "set", "gpt-4o-mini", "--vision")
        sent, _, _ = c.answer("look", attachments=[img["id"]])
        files_dir = os.path.join(self.chatd.data_dir, "files")
        blobs = [os.path.join(d, f) for d, _, fs in os.walk(files_dir) for f in fs]
        self.assertEqual(len(blobs), 1)
        with open(blobs[0], "rb") as f:
            self.assertEqual(f.read(), data)
        c.rpc("conversations.delete", {"id": sent["conversation_id"]})
        status, _, _ = c.http("GET", f"/api/files/{img['id']}")
        self.assertEqual(status, 404)
        self.assertFalse(os.path.exists(blobs[0]))


if __name__ == "__main__":
    main()
