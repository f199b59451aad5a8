"""Two chatd instances on one PostgreSQL database share users' uploads: the bytes live in the
database (`blobs`), each instance's data_dir/files is a cache of them. An image uploaded on A
is downloaded and sent to a vision model through B, also in a later question of the same
conversation; deleting the conversation on A removes the bytes from the database and from
B's cache."""
import base64
import hashlib
import json
import os

from harness import ChatdTestCase, main, wait_for
from shared_database import SharedDatabase
from test_uploads import multipart, png


class SharedFilesTest(SharedDatabase, ChatdTestCase):
    def setUp(self):
        super().setUp()
        self.b = self.second_instance()

    def upload(self, client, filename, data):
        header, body = multipart([("file", filename, "application/octet-stream", data)])
        status, _, reply = client.http("POST", "/api/upload", body, {"Content-Type": header})
        self.assertEqual(status, 200, reply)
        return json.loads(reply)

    def blob_rows(self, digest):
        return int(self.pg.psql(self.chatd.postgres_url, f"SELECT count(*) FROM blobs WHERE hash = '{digest}'"))

    @staticmethod
    def cached(instance, digest):
        return os.path.join(instance.data_dir, "files", digest[:2], digest)

    @staticmethod
    def images_sent(body):
        """The bytes of every image in a request to the upstream, per message."""
        out = []
        for m in body["messages"]:
            parts = m["content"] if isinstance(m["content"], list) else []
            out.append([base64.b64decode(p["image_url"]["url"].split(",", 1)[1])
                        for p in parts if p.get("type") == "image_url"])
        return out

    def test_an_image_uploaded_on_a_is_used_through_b_and_deleted_everywhere(self):
        key, _ = self.add_key("ok", tokens=2)
        self.b.ctl("models", "set", "gpt-4o-mini", "--vision")
        on_a = self.chatd.client()
        on_a.register("shares-files")
        on_b = self.b.client()
        on_b.cookie = on_a.cookie
        data = png(5, 4, seed=11)
        digest = hashlib.sha256(data).hexdigest()
        img = self.upload(on_a, "shared.png", data)
        self.assertEqual(self.blob_rows(digest), 1)
        self.assertTrue(os.path.exists(self.cached(self.chatd, digest)))
        self.assertFalse(os.path.exists(self.cached(self.b, digest)))

        # Downloaded through B: fetched from the database and kept in B's cache.
        status, _, body = on_b.http("GET", f"/api/files/{img['id']}")
        self.assertEqual((status, body), (200, data))
        self.assertTrue(os.path.exists(self.cached(self.b, digest)))

        # Sent with a question through B, the cache emptied first: the same bytes reach the model.
        os.remove(self.cached(self.b, digest))
        sent, _, final = on_b.answer("what is this?", attachments=[img["id"]])
        self.assertEqual(final[0], "done", final)
        self.assertEqual(self.images_sent(self.fake.last_body(key))[-1], [data])

        # A later question in the conversation through B sends the earlier image again.
        os.remove(self.cached(self.b, digest))
        _, _, final = on_b.answer("and what colour is it?", conversation_id=sent["conversation_id"])
        self.assertEqual(final[0], "done", final)
        self.assertIn([data], self.images_sent(self.fake.last_body(key))[:-1])

        # Deleted on A: gone from the database at once, and from B's disk soon after.
        self.assertTrue(os.path.exists(self.cached(self.b, digest)))
        on_a.rpc("conversations.delete", {"id": sent["conversation_id"]})
        self.assertEqual(self.blob_rows(digest), 0)
        self.assertFalse(os.path.exists(self.cached(self.chatd, digest)))
        wait_for(lambda: not os.path.exists(self.cached(self.b, digest)), timeout=3, what="B's copy removed")
        status, _, _ = on_b.http("GET", f"/api/files/{img['id']}")
        self.assertEqual(status, 404)


if __name__ == "__main__":
    main()
