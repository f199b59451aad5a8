#include "store/housekeeping.hpp"

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "util/unix_time.hpp"

namespace chatd::store {

namespace asio = boost::asio;

namespace {

constexpr auto session_purge_every = std::chrono::hours(1);

}  // namespace

std::chrono::milliseconds heartbeat_interval(std::chrono::seconds timeout) {
    auto sixth = std::chrono::duration_cast<std::chrono::milliseconds>(timeout) / 6;
    return std::clamp<std::chrono::milliseconds>(sixth, std::chrono::milliseconds(500), std::chrono::seconds(5));
}

asio::awaitable<void> keep_house(database& db, housekeeping_hooks hooks) {
    asio::steady_timer t(co_await asio::this_coro::executor);
    auto last_purge = std::chrono::steady_clock::now();
    while (!hooks.stopping()) {
        auto timeout = hooks.instance_timeout();
        t.expires_after(heartbeat_interval(timeout));
        co_await t.async_wait(asio::as_tuple(asio::use_awaitable));
        if (hooks.stopping()) break;
        try {
            const int timeout_s = static_cast<int>(timeout.count());
            if (!co_await db.run([timeout_s](store& s) { return s.heartbeat(timeout_s); }))
                spdlog::warn("another instance took this one for dead (unseen for {} s) and interrupted its "
                             "answers in flight; it is recorded as alive again", timeout.count());
            if (co_await db.leads(background_job::instance_sweep)) {
                auto swept = co_await db.run([timeout_s](store& s) {
                    return s.sweep_dead_instances(timeout_s, unix_now());
                });
                for (const auto& dead : swept)
                    spdlog::warn("instance {} was unseen for {} s: {} of its answer(s) marked interrupted and refunded",
                                 dead.name, timeout.count(), dead.interrupted);
            }
            if (std::chrono::steady_clock::now() - last_purge >= session_purge_every &&
                co_await db.leads(background_job::session_purge)) {
                last_purge = std::chrono::steady_clock::now();
                int purged = co_await db.run([](store& s) { return s.purge_sessions(unix_now()); });
                if (purged) spdlog::debug("purged {} expired session(s)", purged);
            }
        } catch (const std::exception& e) {
            // The database is away: the next round tries again.
            spdlog::debug("housekeeping round skipped: {}", e.what());
        }
    }
}

}  // namespace chatd::store
