#include "auth/api_keys.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cctype>

#include "util/app_error.hpp"
#include "util/random.hpp"
#include "util/text.hpp"
#include "util/unix_time.hpp"

namespace chatd::auth {

using boost::asio::awaitable;

namespace {

constexpr std::string_view base62 = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz";

bool is_base62(char c) { return base62.find(c) != std::string_view::npos; }

}  // namespace

std::string new_api_key() {
    std::string key(api_key_prefix);
    // Bytes of 248 and above are drawn again: 248 = 4 × 62 keeps every character equally likely.
    while (key.size() < api_key_prefix.size() + api_key_random_chars)
        for (unsigned char b : random_bytes(api_key_random_chars)) {
            if (b >= 248) continue;
            key += base62[b % 62];
            if (key.size() == api_key_prefix.size() + api_key_random_chars) break;
        }
    return key;
}

bool looks_like_api_key(std::string_view key) {
    if (!key.starts_with(api_key_prefix) || key.size() != api_key_prefix.size() + api_key_random_chars) return false;
    key.remove_prefix(api_key_prefix.size());
    return std::all_of(key.begin(), key.end(), is_base62);
}

std::string api_key_hash(std::string_view key) { return sha256_hex(key); }

std::pair<std::string, std::string> api_key_ends(std::string_view key) {
    auto head = std::min(key.size(), api_key_prefix.size() + 4);
    auto tail = std::min<std::size_t>(4, key.size() - head);
    return {std::string(key.substr(0, head)), std::string(key.substr(key.size() - tail))};
}

std::string masked_api_key(std::string_view shown_prefix, std::string_view shown_suffix) {
    return std::string(shown_prefix) + "…" + std::string(shown_suffix);
}

std::string_view bearer_token(std::string_view authorization) {
    constexpr std::string_view scheme = "bearer ";
    if (authorization.size() <= scheme.size()) return {};
    for (std::size_t i = 0; i < scheme.size(); ++i)
        if (std::tolower(static_cast<unsigned char>(authorization[i])) != scheme[i]) return {};
    authorization.remove_prefix(scheme.size());
    while (!authorization.empty() && authorization.front() == ' ') authorization.remove_prefix(1);
    while (!authorization.empty() && authorization.back() == ' ') authorization.remove_suffix(1);
    return authorization;
}

awaitable<api_keys::created> api_keys::create(const store::user_row& user, std::string name) {
    name = trim(name);
    if (name.empty() || utf8_length(name) > max_api_key_name)
        throw app_error("invalid_params", "密钥名称须为 1–64 个字符 (the name must be 1 to 64 characters)");
    if (!user.api_enabled) throw app_error("forbidden", "你的 API 访问已被管理员关闭 (the API is switched off for you)");
    created out;
    out.key = new_api_key();
    auto [head, tail] = api_key_ends(out.key);
    store::api_key_row row{0, user.id, name, head, tail, unix_now(), std::nullopt};
    out.id = co_await db_.run([row, hash = api_key_hash(out.key)](store::store& s) {
        return s.add_api_key(row, hash, max_api_keys);
    });
    co_return out;
}

awaitable<std::vector<store::api_key_row>> api_keys::list(store::id_t user_id) {
    co_return co_await db_.run([user_id](store::store& s) { return s.api_keys(user_id); });
}

awaitable<void> api_keys::revoke(store::id_t user_id, store::id_t key_id) {
    bool done = co_await db_.run(
        [user_id, key_id](store::store& s) { return s.revoke_api_key(user_id, key_id, unix_now()); });
    if (!done) throw app_error("not_found", "no such API key");
    std::lock_guard lock(cache_mu_);
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.caller.key_id == key_id; });
}

awaitable<std::optional<store::api_caller>> api_keys::resolve(std::string_view authorization) {
    auto key = bearer_token(authorization);
    // Anything that cannot be a key is refused without asking the database.
    if (!looks_like_api_key(key)) co_return std::nullopt;
    auto hash = api_key_hash(key);
    auto fetched = std::chrono::steady_clock::now();
    std::optional<store::api_caller> caller;
    {
        std::lock_guard lock(cache_mu_);
        auto ttl = db_.shared() ? std::chrono::steady_clock::duration(shared_cache_ttl)
                                : std::chrono::steady_clock::duration(cache_ttl);
        if (auto it = cache_.find(hash); it != cache_.end() && fetched - it->second.fetched < ttl)
            caller = it->second.caller;
    }
    if (!caller) {
        caller = co_await db_.read([hash](store::store& s) { return s.find_api_key(hash); });
        std::lock_guard lock(cache_mu_);
        if (!caller) {
            cache_.erase(hash);
            co_return std::nullopt;
        }
        if (cache_.size() >= 100'000) cache_.clear();
        auto& entry = cache_[hash];
        entry.noted_use = std::max(entry.noted_use, caller->last_used_at.value_or(0));
        entry.caller = *caller;
        entry.fetched = fetched;
    }
    if (auto now = unix_now(); claim_use_note(hash, now)) {
        try {
            co_await db_.run([id = caller->key_id, now](store::store& s) {
                s.note_api_key_used(id, now);
                return 0;
            });
        } catch (const std::exception& e) {
            // Bookkeeping only: the request goes on.
            spdlog::warn("api: key {}: cannot note its use: {}", caller->key_id, e.what());
        }
    }
    co_return caller;
}

bool api_keys::claim_use_note(const std::string& hash, std::int64_t now) {
    std::lock_guard lock(cache_mu_);
    auto it = cache_.find(hash);
    if (it == cache_.end() || now - it->second.noted_use < last_use_resolution_s) return false;
    it->second.noted_use = now;
    return true;
}

awaitable<void> api_keys::set_enabled(store::id_t user_id, bool enabled) {
    bool found = co_await db_.run([user_id, enabled](store::store& s) { return s.set_api_enabled(user_id, enabled); });
    if (!found) throw app_error("not_found", "no such user");
    forget_user(user_id);
}

void api_keys::forget_user(store::id_t user_id) {
    std::lock_guard lock(cache_mu_);
    std::erase_if(cache_, [&](const auto& kv) { return kv.second.caller.user.id == user_id; });
}

}  // namespace chatd::auth
