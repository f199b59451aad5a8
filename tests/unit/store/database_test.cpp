// The database thread's group commit: calls queued together share one transaction, yet each
// succeeds or fails on its own. A full disk is a reason of its own (storage_full).
#include <sqlite3.h>

#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <atomic>
#include <catch2/catch.hpp>
#include <cerrno>
#include <filesystem>
#include <fstream>
#include <thread>

#include "store/sqlite/sqlite_database.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/random.hpp"

using namespace chatd;
namespace asio = boost::asio;
namespace fs = std::filesystem;

TEST_CASE("batched calls commit together and fail alone") {
    fs::path dir = fs::temp_directory_path() / ("chatd-db-" + random_hex(6));
    fs::create_directories(dir);
    {
        store::sqlite_database db((dir / "t.db").string());
        db.direct().migrate();
        asio::io_context ioc;
        std::vector<std::future<store::user_row>> results;
        // The first call holds the database thread, so the rest queue up into one batch.
        auto blocker = asio::co_spawn(ioc, db.run([](store::store&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return 0;
        }), asio::use_future);
        for (int i = 0; i < 20; ++i) {
            // User 7 is taken twice: the second attempt fails, the rest of the batch stands.
            std::string name = "user" + std::to_string(i == 8 ? 7 : i);
            results.push_back(asio::co_spawn(ioc, db.run([name](store::store& s) {
                return s.create_password_user(name, "hash", false, 100);
            }), asio::use_future));
        }
        ioc.run();
        blocker.get();
        int ok = 0, taken = 0;
        for (auto& f : results) {
            try {
                f.get();
                ++ok;
            } catch (const app_error& e) {
                CHECK(e.reason == "username_taken");
                ++taken;
            }
        }
        CHECK(ok == 19);
        CHECK(taken == 1);
        CHECK(db.direct().counts().users == 19);
        CHECK(db.direct().ledger_mismatches().empty());
        db.stop();
    }
    fs::remove_all(dir);
}

TEST_CASE("the longest recent write is measured from being asked to its commit, reads not counted") {
    fs::path dir = fs::temp_directory_path() / ("chatd-db-" + random_hex(6));
    fs::create_directories(dir);
    {
        store::sqlite_database db((dir / "t.db").string());
        db.direct().migrate();
        CHECK(db.worst_write_seconds() == 0.0);
        asio::io_context ioc;
        auto slow_read = asio::co_spawn(ioc, db.read([](store::store&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(300));
            return 0;
        }), asio::use_future);
        ioc.run();
        slow_read.get();
        CHECK(db.worst_write_seconds() < 0.2);
        ioc.restart();
        // The second write waits behind the first: its wait includes the first one's 200 ms.
        auto first = asio::co_spawn(ioc, db.run([](store::store&) {
            std::this_thread::sleep_for(std::chrono::milliseconds(200));
            return 0;
        }), asio::use_future);
        auto second = asio::co_spawn(ioc, db.run([](store::store& s) { return s.counts().users; }), asio::use_future);
        ioc.run();
        first.get();
        second.get();
        CHECK(db.worst_write_seconds() >= 0.19);
        CHECK(db.worst_write_seconds() < 5.0);
        db.stop();
    }
    fs::remove_all(dir);
}

TEST_CASE("disk-full errors are told apart from other SQLite errors") {
    CHECK(store::is_disk_full(SQLITE_FULL, 0));
    CHECK(store::is_disk_full(SQLITE_IOERR_WRITE, ENOSPC));
    CHECK(store::is_disk_full(SQLITE_IOERR_SHMSIZE, ENOSPC));
    CHECK_FALSE(store::is_disk_full(SQLITE_IOERR_WRITE, EIO));
    CHECK_FALSE(store::is_disk_full(SQLITE_CONSTRAINT, ENOSPC));
    CHECK_FALSE(store::is_disk_full(SQLITE_BUSY, 0));
}

TEST_CASE("a write the database has no room for fails with storage_full and changes nothing") {
    fs::path dir = fs::temp_directory_path() / ("chatd-db-" + random_hex(6));
    fs::create_directories(dir);
    {
        store::sqlite_database db((dir / "t.db").string());
        db.direct().migrate();
        // The probe for space writes a scratch file here: while this directory is in the way,
        // it finds no room.
        fs::create_directory(dir / "t.db.space-probe");
        // No new pages: as on a full disk, SQLite answers SQLITE_FULL.
        auto& writer = dynamic_cast<store::sqlite_store&>(db.direct()).connection();
        writer.exec("PRAGMA max_page_count=" + std::to_string(writer.execAndGet("PRAGMA page_count").getInt()));
        REQUIRE_FALSE(db.storage_full());

        asio::io_context ioc;
        auto create = [&db, &ioc](std::string name, std::size_t hash_size) {
            return asio::co_spawn(ioc, db.run([name, hash = std::string(hash_size, 'h')](store::store& s) {
                return s.create_password_user(name, hash, false, 100);
            }), asio::use_future);
        };
        std::atomic<bool> blocking{false};
        auto blocker = asio::co_spawn(ioc, db.run([&blocking](store::store&) {
            blocking = true;
            std::this_thread::sleep_for(std::chrono::milliseconds(100));
            return 0;
        }), asio::use_future);
        ioc.poll();
        while (!blocking) std::this_thread::yield();
        // Queued behind the blocker, both run in one batch. The big one needs new pages, and
        // SQLite then rolls back the whole transaction: the small one, though it ran first,
        // is not stored either, and its caller must not be told otherwise.
        auto small = create("small", 10);
        auto big = create("big", 256 * 1024);
        ioc.run();
        blocker.get();
        for (auto* call : {&small, &big}) {
            try {
                call->get();
                FAIL("a user was created on a full disk");
            } catch (const app_error& e) {
                CHECK(e.reason == "storage_full");
            }
        }
        CHECK(db.storage_full());
        CHECK(db.direct().counts().users == 0);
        CHECK(db.direct().ledger_mismatches().empty());

        std::this_thread::sleep_for(std::chrono::milliseconds(1500));  // the probe has run
        CHECK(db.storage_full());
        // Room again: the checkpointer's probe finds it (the page limit binds only the writer).
        fs::remove(dir / "t.db.space-probe");
        auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
        while (db.storage_full() && std::chrono::steady_clock::now() < deadline)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
        CHECK_FALSE(db.storage_full());
        writer.exec("PRAGMA max_page_count=1073741823");
        ioc.restart();
        auto again = create("big", 256 * 1024);
        ioc.run();
        CHECK(again.get().username == "big");
        db.stop();
    }
    fs::remove_all(dir);
}

namespace {

// The WAL header's checkpoint sequence number: SQLite adds one each time it restarts the log.
std::uint32_t wal_restarts(const fs::path& wal) {
    std::ifstream in(wal, std::ios::binary);
    unsigned char header[16] = {};
    in.read(reinterpret_cast<char*>(header), sizeof header);
    return std::uint32_t(header[12]) << 24 | std::uint32_t(header[13]) << 16 | std::uint32_t(header[14]) << 8 |
           std::uint32_t(header[15]);
}

}  // namespace

TEST_CASE("under writes that never pause the WAL still restarts instead of growing") {
    fs::path dir = fs::temp_directory_path() / ("chatd-db-" + random_hex(6));
    fs::create_directories(dir);
    {
        // 64 pages: the checkpointer finishes a WAL longer than that on the database thread.
        store::sqlite_database db((dir / "t.db").string(), 64);
        db.direct().migrate();
        auto& connection = dynamic_cast<store::sqlite_store&>(db.direct()).connection();
        connection.exec("CREATE TABLE filler(id INTEGER PRIMARY KEY, data BLOB)");
        connection.exec("INSERT INTO filler(id, data) VALUES (1, zeroblob(8192)), (2, zeroblob(8192))");

        asio::io_context ioc;
        auto until = std::chrono::steady_clock::now() + std::chrono::milliseconds(2500);
        std::int64_t written = 0;
        // Four writers keep a call queued at all times, as answers being saved do.
        auto writer = [&]() -> asio::awaitable<void> {
            while (std::chrono::steady_clock::now() < until) {
                written += co_await db.run([](store::store& s) {
                    dynamic_cast<store::sqlite_store&>(s).connection().exec(
                        "UPDATE filler SET data = randomblob(8192) WHERE id = 1 + abs(random()) % 2");
                    return 8192;
                });
            }
        };
        std::vector<std::future<void>> writers;
        for (int i = 0; i < 4; ++i) writers.push_back(asio::co_spawn(ioc, writer(), asio::use_future));
        ioc.run();
        for (auto& w : writers) w.get();
        INFO("written " << written << " bytes; WAL " << fs::file_size(dir / "t.db-wal") << " bytes");
        CHECK(written > 4 * 1024 * 1024);
        CHECK(wal_restarts(dir / "t.db-wal") >= 1);
        db.stop();
    }
    fs::remove_all(dir);
}
