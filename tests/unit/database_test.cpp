// The database thread's group commit: calls queued together share one transaction, yet each
// succeeds or fails on its own.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <filesystem>
#include <thread>

#include "store/database.hpp"
#include "util/random.hpp"

using namespace chatd;
namespace asio = boost::asio;
namespace fs = std::filesystem;

TEST_CASE("batched calls commit together and fail alone") {
    fs::path dir = fs::temp_directory_path() / ("chatd-db-" + random_hex(6));
    fs::create_directories(dir);
    {
        store::database db((dir / "t.db").string());
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
                return s.create_password_user(name, "hash", false, 3, 100);
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
