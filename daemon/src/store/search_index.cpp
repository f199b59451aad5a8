#include "store/search_index.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <climits>
#include <spdlog/spdlog.h>

namespace chatd::store {

namespace asio = boost::asio;

namespace {

// One batch a round: a few milliseconds of the database thread, so a question waits behind it
// no longer than behind a slice of partial saves.
constexpr int queue_batch = 500;
constexpr int backfill_batch = 500;
// How far the index may run behind the messages.
constexpr auto round_every = std::chrono::milliseconds(250);
// Between rounds while there is more to do: room for the checkpointer (and questions).
constexpr auto busy_pause = std::chrono::milliseconds(20);

}  // namespace

asio::awaitable<void> keep_search_index(database& db, std::function<bool()> stopping) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    std::int64_t backfilled = 0;
    bool backfill_done = false;
    auto started = std::chrono::steady_clock::now();
    while (!stopping()) {
        std::chrono::steady_clock::duration pause = round_every;
        try {
            auto queued = co_await db.run([](store& s) { return s.index_queued_search(queue_batch); });
            if (!queued) co_return;  // the backend indexes every write itself
            if (*queued == queue_batch) pause = busy_pause;
            if (!backfill_done) {
                auto n = co_await db.run([](store& s) { return s.backfill_search(backfill_batch); });
                if (n > 0 && backfilled == 0) spdlog::info("search index: indexing older messages in the background");
                backfilled += n;
                if (n > 0) pause = busy_pause;
                backfill_done = n == 0;
                if (backfill_done && backfilled > 0)
                    spdlog::info("search index: {} older message(s) indexed in {} s", backfilled,
                                 std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started)
                                     .count());
            }
        } catch (const std::exception& e) {
            // The database is away or full: the index waits; the service goes on without it.
            spdlog::warn("search index: indexing paused for a minute: {}", e.what());
            pause = std::chrono::minutes(1);
        }
        t.expires_after(pause);
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

asio::awaitable<void> index_queued_now(database& db) {
    co_await db.run([](store& s) { return s.index_queued_search(INT_MAX).value_or(0); });
}

}  // namespace chatd::store
