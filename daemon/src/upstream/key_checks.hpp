#pragma once
// Checks on single keys, outside any question: re-verification (GET /models) and the
// provider's balance. A balance answer never changes a key's status, whatever it says.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <optional>
#include <string>
#include <string_view>

#include "upstream/key_pool.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::upstream {

struct key_test_result {
    std::int64_t id = 0;
    bool ok = false;
    std::string status;  // the key's status afterwards
    std::string reason;  // why it failed, when it did
};

// Tests the key and records the result in the pool: a working key returns to active; an
// authentication failure marks it invalid; anything else leaves its status alone.
boost::asio::awaitable<key_test_result> test_key(client& c, key_pool& pool, std::int64_t id,
                                                 const std::string& default_base_url);

struct key_balance {
    std::int64_t id = 0;
    std::optional<double> balance;
    std::string currency;
    std::string error;  // set when there is no balance to show
};

boost::asio::awaitable<key_balance> query_balance(client& c, const pool_key& key,
                                                  const std::string& default_base_url);

// Tests the invalid keys again every `period()` (checked every 30 s), until `stopping()`; a key
// that works returns to active and `on_recovered(id)` records it. A round runs only when
// `leading()` says this instance runs the re-checks (one instance of those sharing a database).
struct recheck_hooks {
    std::function<std::chrono::minutes()> period;
    std::function<std::string()> default_base_url;
    std::function<boost::asio::awaitable<void>(std::int64_t id)> on_recovered;
    std::function<boost::asio::awaitable<bool>()> leading;
    std::function<bool()> stopping;
};
boost::asio::awaitable<void> recheck_invalid_keys(client& c, key_pool& pool, recheck_hooks hooks);

// The provider's balance endpoint for a base URL, or "" when the provider has none.
std::string balance_url(std::string_view provider, std::string_view base_url);
// {amount, currency} from the provider's answer; nullopt for anything unexpected.
std::optional<std::pair<double, std::string>> parse_balance(std::string_view provider, std::string_view body);

}  // namespace chatd::upstream
