#pragma once
// Attempts counted against a limit per window: logins, sign-ups, card redemptions, login codes.
// One chatd counts them in memory (util/rate_limiter.hpp); several on one database
// (store::database::shared) count them in its rate_hits table, so that a limit holds across all
// of them instead of once per instance. Callers do not care which.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "util/rate_limiter.hpp"

namespace chatd::store {

class attempt_limiter {
public:
    explicit attempt_limiter(database& db) : db_(db) {}

    // An attempt allow() counted, for release() to take back.
    struct attempt {
        std::vector<std::string> keys;
        rate_limiter::clock::time_point local{};  // in memory
        std::int64_t at_ms = 0;                   // in the database
    };

    // Counts an attempt under each of `keys` (an address and a username, say) if each has fewer
    // than `limit` within `window`; nullopt, counting nothing, when one is full (a blocked client
    // is let in again once the window has passed).
    boost::asio::awaitable<std::optional<attempt>> allow(std::vector<std::string> keys, int limit,
                                                         std::chrono::seconds window);
    boost::asio::awaitable<std::optional<attempt>> allow(std::string key, int limit, std::chrono::seconds window) {
        return allow(std::vector<std::string>{std::move(key)}, limit, window);
    }
    // Takes the attempt back under all its keys: it turned out not to count. Never throws: on a
    // database that is away, the attempt just keeps counting until its window passes.
    boost::asio::awaitable<void> release(attempt a);
    // Forgets every attempt of `key`; never throws either.
    boost::asio::awaitable<void> reset(std::string key);

    // On a shared database, drops hits older than kept_for every prune_every, whatever their
    // bucket (an address that tried once, a user who asked once), until `stopping`.
    boost::asio::awaitable<void> prune_old(std::function<bool()> stopping);
    // Longer than any window a caller counts in.
    static constexpr auto kept_for = std::chrono::hours(24);
    static constexpr auto prune_every = std::chrono::minutes(10);

private:
    database& db_;
    rate_limiter memory_;
};

}  // namespace chatd::store
