#include "store/attempt_limiter.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

namespace chatd::store {

using boost::asio::awaitable;
using std::chrono::milliseconds;

namespace {

// Wall-clock milliseconds: instances on several machines compare these, so no steady clock.
std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

awaitable<std::optional<attempt_limiter::attempt>> attempt_limiter::allow(std::vector<std::string> keys, int limit,
                                                                          std::chrono::seconds window) {
    attempt a{std::move(keys)};
    if (!db_.shared()) {
        a.local = rate_limiter::clock::now();
        for (std::size_t i = 0; i < a.keys.size(); ++i)
            if (!memory_.allow(a.keys[i], limit, window, a.local)) {
                for (std::size_t j = 0; j < i; ++j) memory_.release(a.keys[j], a.local);
                co_return std::nullopt;
            }
        co_return a;
    }
    a.at_ms = unix_now_ms();
    // On a pooled connection (run_alone): hits need no place in the writes' order, and a flood
    // of attempts does not hold up questions and answers behind them.
    const bool counted = co_await db_.run_alone([&a, limit, window_ms = milliseconds(window).count()](store& s) {
        return s.record_hits(a.keys, limit, window_ms, a.at_ms);
    });
    if (!counted) co_return std::nullopt;
    co_return a;
}

awaitable<void> attempt_limiter::release(attempt a) {
    if (!db_.shared()) {
        for (const auto& key : a.keys) memory_.release(key, a.local);
        co_return;
    }
    try {
        co_await db_.run_alone([&a](store& s) {
            for (const auto& key : a.keys) s.forget_hit(key, a.at_ms);
            return 0;
        });
    } catch (const std::exception& e) {
        spdlog::debug("an attempt is still counted: {}", e.what());
    }
}

awaitable<void> attempt_limiter::reset(std::string key) {
    if (!db_.shared()) {
        memory_.reset(key);
        co_return;
    }
    try {
        co_await db_.run_alone([&key](store& s) {
            s.forget_hits(key);
            return 0;
        });
    } catch (const std::exception& e) {
        spdlog::debug("attempts are still counted: {}", e.what());
    }
}

awaitable<void> attempt_limiter::prune_old(std::function<bool()> stopping) {
    if (!db_.shared()) co_return;  // the in-memory limiter sweeps itself
    boost::asio::steady_timer timer(co_await boost::asio::this_coro::executor);
    while (!stopping()) {
        timer.expires_after(prune_every);
        auto [ec] = co_await timer.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec || stopping()) co_return;
        try {
            auto pruned = co_await db_.run([before = unix_now_ms() - milliseconds(kept_for).count()](store& s) {
                return s.prune_hits(before);
            });
            if (pruned) spdlog::debug("pruned {} old rate limit hit(s)", pruned);
        } catch (const std::exception& e) {
            spdlog::warn("pruning old rate limit hits failed: {}", e.what());
        }
    }
}

}  // namespace chatd::store
