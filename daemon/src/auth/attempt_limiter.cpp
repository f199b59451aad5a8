#include "auth/attempt_limiter.hpp"

#include <spdlog/spdlog.h>

namespace chatd::auth {

using boost::asio::awaitable;
using std::chrono::milliseconds;

namespace {

// Wall-clock milliseconds: instances on several machines compare these, so no steady clock.
std::int64_t unix_now_ms() {
    return std::chrono::duration_cast<milliseconds>(std::chrono::system_clock::now().time_since_epoch()).count();
}

}  // namespace

awaitable<std::optional<attempt_limiter::attempt>> attempt_limiter::allow(std::string key, int limit,
                                                                          std::chrono::seconds window) {
    attempt a{std::move(key)};
    if (!db_.shared()) {
        a.local = rate_limiter::clock::now();
        if (!memory_.allow(a.key, limit, window, a.local)) co_return std::nullopt;
        co_return a;
    }
    a.at_ms = unix_now_ms();
    // Buckets nobody hits again (an address that tried once) are pruned now and then, by
    // whichever instance gets here first.
    auto last = last_prune_ms_.load();
    const bool prune = a.at_ms - last >= milliseconds(prune_every).count() &&
                       last_prune_ms_.compare_exchange_strong(last, a.at_ms);
    const auto prune_before = a.at_ms - milliseconds(kept_for).count();
    const bool counted = co_await db_.run(
        [&a, limit, window_ms = milliseconds(window).count(), prune, prune_before](store::store& s) {
            if (prune) s.prune_hits(prune_before);
            return s.record_hit(a.key, limit, window_ms, a.at_ms);
        });
    if (!counted) co_return std::nullopt;
    co_return a;
}

awaitable<void> attempt_limiter::release(attempt a) {
    if (!db_.shared()) {
        memory_.release(a.key, a.local);
        co_return;
    }
    try {
        co_await db_.run([&a](store::store& s) {
            s.forget_hit(a.key, a.at_ms);
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
        co_await db_.run([&key](store::store& s) {
            s.forget_hits(key);
            return 0;
        });
    } catch (const std::exception& e) {
        spdlog::debug("attempts are still counted: {}", e.what());
    }
}

}  // namespace chatd::auth
