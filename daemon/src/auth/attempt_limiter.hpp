#pragma once
// Attempts counted against a limit per window: logins, sign-ups, card redemptions, login codes.
// One chatd counts them in memory (util/rate_limiter.hpp); several on one database
// (store::database::shared) count them in its rate_hits table, so that a limit holds across all
// of them instead of once per instance. Callers do not care which.
#include <boost/asio/awaitable.hpp>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <optional>
#include <string>

#include "store/database.hpp"
#include "util/rate_limiter.hpp"

namespace chatd::auth {

class attempt_limiter {
public:
    explicit attempt_limiter(store::database& db) : db_(db) {}

    // An attempt allow() counted, for release() to take back.
    struct attempt {
        std::string key;
        rate_limiter::clock::time_point local{};  // in memory
        std::int64_t at_ms = 0;                   // in the database
    };

    // Counts an attempt for `key` if fewer than `limit` are within `window`; nullopt, counting
    // nothing, when refused (a blocked client is let in again once the window has passed).
    boost::asio::awaitable<std::optional<attempt>> allow(std::string key, int limit, std::chrono::seconds window);
    // Takes the attempt back: it turned out not to count. Never throws: on a database that is
    // away, the attempt just keeps counting until its window passes.
    boost::asio::awaitable<void> release(attempt a);
    // Forgets every attempt of `key`; never throws either.
    boost::asio::awaitable<void> reset(std::string key);

    // Hits older than this are pruned, whatever their bucket: longer than any window.
    static constexpr auto kept_for = std::chrono::hours(24);
    static constexpr auto prune_every = std::chrono::minutes(10);

private:
    store::database& db_;
    rate_limiter memory_;
    std::atomic<std::int64_t> last_prune_ms_{0};
};

}  // namespace chatd::auth
