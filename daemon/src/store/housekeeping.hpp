#pragma once
// The store's own rounds while chatd runs: this instance's heartbeat, and — on whichever
// instance leads each — the sweep of instances that died (their answers interrupted and
// refunded) and the purge of expired sessions.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>

#include "store/database.hpp"

namespace chatd::store {

struct housekeeping_hooks {
    // How long an instance may go unseen before the others take it for dead.
    std::function<std::chrono::seconds()> instance_timeout;
    std::function<bool()> stopping;
};

// How often an instance beats within `timeout`: six times, so that several late beats in a
// row (a busy writer, a slow network) still leave it alive; between half a second and 5 s.
std::chrono::milliseconds heartbeat_interval(std::chrono::seconds timeout);

// Runs until hooks.stopping().
boost::asio::awaitable<void> keep_house(database& db, housekeeping_hooks hooks);

}  // namespace chatd::store
