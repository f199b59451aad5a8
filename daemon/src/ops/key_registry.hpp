#pragma once
// The operator's changes to the upstream key pool: each is stored first, then applied to the
// pool the answers draw from, so a restart finds what the operator last saw.
#include <boost/asio/awaitable.hpp>
#include <string>
#include <vector>

#include "store/database.hpp"
#include "upstream/key_pool.hpp"

namespace chatd::ops {

struct new_keys {
    std::vector<std::string> secrets;
    std::string base_url;  // empty: the configured default
    std::vector<std::string> models;
    std::string note;
    std::string provider;
};

class key_registry {
public:
    key_registry(store::database& db, upstream::key_pool& pool) : db_(db), pool_(pool) {}

    // Returns the new keys' ids.
    boost::asio::awaitable<std::vector<store::id_t>> add(new_keys keys, std::int64_t now);
    // not_found when there is no such key.
    boost::asio::awaitable<void> remove(store::id_t id);
    boost::asio::awaitable<void> set_enabled(store::id_t id, bool enabled);
    // A key's status changes, newest first.
    boost::asio::awaitable<std::vector<store::key_event_row>> history(store::id_t id, int limit);
    // Takes in what other instances sharing the database changed: keys and their health.
    boost::asio::awaitable<void> refresh();
    // The pool as operators see it: on a shared database refreshed first, so that the counters
    // include what the other instances' answers used.
    boost::asio::awaitable<std::vector<upstream::pool_key>> listing();

private:
    store::database& db_;
    upstream::key_pool& pool_;
};

}  // namespace chatd::ops
