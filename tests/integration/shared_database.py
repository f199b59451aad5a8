"""Tests of several chatd instances on one PostgreSQL database: a private server for the test
class, each test's chatd on a fresh database of it, and `second_instance()` sharing that one."""
import os

import harness
from harness import Chatd
from pg_server import PgServer


class SharedDatabase:
    """Mixed in before a ChatdTestCase (or one of its subclasses)."""

    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        cls.pg = PgServer().start()
        harness.POSTGRES = cls.pg.url

    @classmethod
    def tearDownClass(cls):
        harness.POSTGRES = ""
        cls.pg.stop()
        super().tearDownClass()

    def second_instance(self, extra_conf="", args=()):
        """Another chatd on this test's database, with its own port, socket and data_dir."""
        workdir = os.path.join(self.workdir, "b")
        os.makedirs(workdir)
        b = Chatd(workdir, extra_conf, args, postgres_url=self.chatd.postgres_url).start()
        self.addCleanup(lambda: b.stop() if b.proc and b.proc.poll() is None else None)
        return b
