#include "store/search_backfill.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace chatd::store {

namespace asio = boost::asio;

asio::awaitable<void> backfill_search(database& db, std::function<bool()> stopping) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    std::int64_t total = 0;
    auto started = std::chrono::steady_clock::now();
    while (!stopping()) {
        auto pause = std::chrono::milliseconds(20);  // room for the checkpointer (and questions)
        try {
            auto n = co_await db.run([](store& s) { return s.backfill_search(500); });
            if (n == 0) break;
            if (total == 0) spdlog::info("search index: indexing older messages in the background");
            total += n;
        } catch (const std::exception& e) {
            // The database is away or full: the index waits; the service goes on without it.
            spdlog::warn("search index: indexing paused for a minute: {}", e.what());
            pause = std::chrono::minutes(1);
        }
        t.expires_after(pause);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
    if (total > 0)
        spdlog::info("search index: {} older message(s) indexed in {} s", total,
                     std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
}

}  // namespace chatd::store
