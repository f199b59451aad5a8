#pragma once
// Users' personal API keys for the OpenAI-compatible API (CONTRACT §13): `sk-chatd-` and 40
// base62 characters from the CSPRNG, shown once; only the key's SHA-256 is stored, with a few
// characters of each end to show it masked.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/database.hpp"

namespace chatd::auth {

inline constexpr std::string_view api_key_prefix = "sk-chatd-";
inline constexpr std::size_t api_key_random_chars = 40;  // about 238 bits
inline constexpr int max_api_keys = 10;                  // live keys per user
inline constexpr std::size_t max_api_key_name = 64;      // characters

std::string new_api_key();
// The prefix, then only base62 characters of the right length.
bool looks_like_api_key(std::string_view key);
std::string api_key_hash(std::string_view key);
// What a key shows of itself: its prefix with 4 characters, and its last 4.
std::pair<std::string, std::string> api_key_ends(std::string_view key);
std::string masked_api_key(std::string_view shown_prefix, std::string_view shown_suffix);
// The token of an `Authorization: Bearer …` header; empty when there is none.
std::string_view bearer_token(std::string_view authorization);

class api_keys {
public:
    explicit api_keys(store::database& db) : db_(db) {}

    struct created {
        store::id_t id = 0;
        std::string key;  // the whole key, shown once
    };
    // forbidden when the operator switched the user's API off; invalid_params for a bad name or
    // an 11th live key.
    boost::asio::awaitable<created> create(const store::user_row& user, std::string name);
    boost::asio::awaitable<std::vector<store::api_key_row>> list(store::id_t user_id);
    // not_found for a key that is not the user's or already revoked.
    boost::asio::awaitable<void> revoke(store::id_t user_id, store::id_t key_id);
    // The live key in an Authorization header and its owner; none for a missing, unknown or
    // revoked key. Keys are looked up like sessions: cached for a short while, dropped from the
    // cache at once by a revocation, the user's switch or a ban on this instance.
    boost::asio::awaitable<std::optional<store::api_caller>> resolve(std::string_view authorization);
    // The operator's per-user switch; not_found when there is no such user.
    boost::asio::awaitable<void> set_enabled(store::id_t user_id, bool enabled);
    // Drops the cached keys of a user whose rights changed (ban).
    void forget_user(store::id_t user_id);

    static constexpr auto cache_ttl = std::chrono::seconds(30);
    static constexpr auto shared_cache_ttl = std::chrono::seconds(1);  // other instances revoke too
    // A key's last use is written at most this often: one write a minute, not one per request.
    static constexpr std::int64_t last_use_resolution_s = 60;

private:
    struct cached_key {
        store::api_caller caller;
        std::chrono::steady_clock::time_point fetched;
        std::int64_t noted_use = 0;  // the last use written to the database (unix seconds)
    };
    // Whether this use should be written down; marks it written so concurrent requests do not.
    bool claim_use_note(const std::string& hash, std::int64_t now);

    store::database& db_;
    std::mutex cache_mu_;
    std::unordered_map<std::string, cached_key> cache_;  // by key hash
};

}  // namespace chatd::auth
