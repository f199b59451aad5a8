#include "auth/auth_service.hpp"

#include <spdlog/spdlog.h>

#include "auth/password.hpp"
#include "billing/credits.hpp"
#include "util/app_error.hpp"
#include "util/random.hpp"
#include "util/text.hpp"
#include "util/unix_time.hpp"

namespace chatd::auth {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

std::string lower_ascii(std::string s) {
    for (auto& c : s) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    return s;
}

}  // namespace

template <class F>
auto auth_service::hash_job(F f, int bound) -> awaitable<std::optional<decltype(f())>> {
    struct slot {
        std::atomic<int>& n;
        ~slot() { --n; }
    };
    if (++queued_hashes_ > bound) {
        --queued_hashes_;
        co_return std::nullopt;
    }
    slot held{queued_hashes_};
    co_return co_await hashing_.run(std::move(f));
}

namespace {

app_error too_many_logins() {
    return app_error("too_many_requests", "登录的人太多，请稍后再试 (too many logins right now; try again in a moment)");
}

}  // namespace

auth_service::auth_service(store::database& db, blocking_pool& hashing, settings& s,
                           std::function<std::shared_ptr<const config>()> cfg)
    : db_(db), hashing_(hashing), settings_(s), config_(std::move(cfg)), limiter_(db) {}

awaitable<void> auth_service::count_signup(const client_info& client) {
    if (!co_await limiter_.allow("signup:" + client.ip,
                                 static_cast<int>(settings_.get_int("limits.signups_per_hour")),
                                 std::chrono::hours(1)))
        throw app_error("too_many_requests", "注册太频繁，请稍后再试 (too many sign-ups from this address)");
}

void auth_service::check_username(const std::string& username) {
    auto n = utf8_length(username);
    if (n < 2 || n > 32)
        throw app_error("invalid_params", "用户名需要 2 到 32 个字符 (username: 2 to 32 characters)");
    for (unsigned char c : username)
        if (c < 0x80 && !std::isalnum(c) && c != '_' && c != '-' && c != '.')
            throw app_error("invalid_params",
                            "用户名只能包含字母、数字、_ - . (username: letters, digits, _ - . only)");
}

void auth_service::check_password(const std::string& password) {
    if (password.size() < 8 || password.size() > 256)
        throw app_error("invalid_params", "密码需要至少 8 个字符 (password: at least 8 characters)");
}

std::string auth_service::cookie_token(std::string_view header) { return cookie_value(header, cookie_name); }

std::string auth_service::cookie_value(std::string_view header, std::string_view name) {
    while (!header.empty()) {
        auto semi = header.find(';');
        auto part = header.substr(0, semi);
        while (!part.empty() && part.front() == ' ') part.remove_prefix(1);
        if (part.starts_with(name) && part.size() > name.size() && part[name.size()] == '=')
            return std::string(part.substr(name.size() + 1));
        if (semi == std::string_view::npos) break;
        header.remove_prefix(semi + 1);
    }
    return {};
}

std::string auth_service::clear_cookie(bool secure) const {
    return std::string(cookie_name) + "=; Path=/; HttpOnly; SameSite=Lax; Max-Age=0" + (secure ? "; Secure" : "");
}

awaitable<login_result> auth_service::open_session(store::user_row user, const client_info& client,
                                                   bool secure) {
    auto days = config_()->auth.session_days;
    std::string token = random_token(32);
    auto now = unix_now();
    auto expires = now + std::int64_t(days) * 86400;
    co_await db_.run([hash = sha256_hex(token), id = user.id, now, expires, client](store::store& s) {
        s.create_session(hash, id, now, expires, client.ip, client.user_agent);
        return 0;
    });
    login_result r;
    r.user = std::move(user);
    r.set_cookie = std::string(cookie_name) + "=" + token + "; Path=/; HttpOnly; SameSite=Lax; Max-Age=" +
                   std::to_string(std::int64_t(days) * 86400) + (secure ? "; Secure" : "");
    co_return r;
}

awaitable<login_result> auth_service::register_password(const std::string& username,
                                                        const std::string& password,
                                                        const client_info& client, bool secure,
                                                        const std::string& invite) {
    if (!config_()->auth.password)
        throw app_error("forbidden", "本站未开放密码注册 (password sign-up is off)");
    check_username(username);
    check_password(password);
    co_await count_signup(client);
    auto hash = co_await hash_job([password] { return hash_password(password); }, max_queued_hashes);
    if (!hash) throw too_many_logins();
    auto trial = settings_.get_int("billing.trial_questions");
    auto reward = settings_.get_int("referral.signup_reward");
    auto user = co_await db_.run([&, now = unix_now()](store::store& s) {
        store::user_row created;
        s.atomically([&] {
            auto id = s.create_password_user(username, *hash, false, now).id;
            billing::welcome_new_user(s, id, trial, invite, reward, now);
            created = *s.user_by_id(id);
        });
        return created;
    });
    spdlog::info("new user {} ({}) from {}", user.id, username, client.ip);
    co_return co_await open_session(std::move(user), client, secure);
}

awaitable<login_result> auth_service::login_password(const std::string& username,
                                                     const std::string& password,
                                                     const client_info& client, bool secure) {
    int limit = static_cast<int>(settings_.get_int("limits.login_attempts_per_15min"));
    auto window = std::chrono::minutes(15);
    std::string by_name = "login:user:" + lower_ascii(username), by_ip = "login:ip:" + client.ip;
    // Each attempt is counted before the slow hash, so concurrent guesses cannot all slip in
    // under the limit; a successful login takes its count back.
    auto refused = [] {
        return app_error("too_many_requests", "登录尝试太多，请 15 分钟后再试 (too many attempts; wait 15 minutes)");
    };
    auto attempt = co_await limiter_.allow(std::vector<std::string>{by_ip, by_name}, limit, window);
    if (!attempt) throw refused();
    bool ok = false;
    std::optional<store::user_row> user;
    std::exception_ptr not_an_attempt;
    try {
        user = co_await db_.run([username](store::store& s) { return s.user_by_username(username); });
        if (user) {
            auto verified = co_await hash_job([password, encoded = user->password_hash] {
                return verify_password(password, encoded);
            }, max_queued_hashes);
            if (!verified) throw too_many_logins();
            ok = *verified;
        } else {
            // Hash for unknown names too so timing does not tell which usernames exist.
            co_await hash_job([password] { return hash_password(password); }, max_queued_decoys);
        }
    } catch (const app_error&) {
        // Not an attempt at the password (busy, disk full): it does not count.
        not_an_attempt = std::current_exception();
    }
    if (not_an_attempt) {
        co_await limiter_.release(*attempt);
        std::rethrow_exception(not_an_attempt);
    }
    if (!ok || !user) throw app_error("bad_credentials", "用户名或密码错误 (wrong username or password)");
    co_await limiter_.release(*attempt);
    co_await limiter_.reset(by_name);
    if (!config_()->auth.password && !user->is_admin)
        throw app_error("forbidden", "本站未开放密码登录 (password login is off)");
    if (user->banned) throw app_error("user_banned", "账号已被封禁 (this account is banned)");
    co_return co_await open_session(std::move(*user), client, secure);
}

awaitable<login_result> auth_service::login_wechat(const std::string& openid, const client_info& client,
                                                   bool secure, const std::string& invite,
                                                   unionid_fetcher unionid) {
    auto user = co_await db_.run([openid](store::store& s) { return s.user_by_openid(openid); });
    if (!user) {
        co_await count_signup(client);
        std::optional<std::string> union_id;
        if (unionid) {
            try {
                union_id = co_await unionid();
            } catch (const std::exception& e) {
                spdlog::warn("wechat: no unionid for a new user: {}", e.what());
            }
        }
        auto trial = settings_.get_int("billing.trial_questions");
        auto reward = settings_.get_int("referral.signup_reward");
        user = co_await db_.run([&, now = unix_now()](store::store& s) {
            // Two browsers of one person may log in at once: the second finds the first's row.
            if (auto existing = s.user_by_openid(openid)) return *existing;
            store::user_row created;
            s.atomically([&] {
                auto id = s.create_wechat_user(openid, union_id, now).id;
                billing::welcome_new_user(s, id, trial, invite, reward, now);
                created = *s.user_by_id(id);
            });
            return created;
        });
        spdlog::info("new user {} (WeChat) from {}", user->id, client.ip);
    }
    if (user->banned) throw app_error("user_banned", "账号已被封禁 (this account is banned)");
    co_return co_await open_session(std::move(*user), client, secure);
}

awaitable<void> auth_service::logout(const std::string& token_hash) {
    if (token_hash.empty()) co_return;
    {
        std::lock_guard lock(cache_mu_);
        sessions_.erase(token_hash);
    }
    co_await db_.run([token_hash](store::store& s) {
        s.delete_session(token_hash);
        return 0;
    });
}

awaitable<std::optional<store::user_row>> auth_service::resolve(std::string_view cookie_header,
                                                                std::string& token_hash) {
    auto token = cookie_token(cookie_header);
    if (token.empty() || token.size() > 128) co_return std::nullopt;
    token_hash = sha256_hex(token);
    auto now = std::chrono::steady_clock::now();
    {
        std::lock_guard lock(cache_mu_);
        auto it = sessions_.find(token_hash);
        auto ttl = db_.shared() ? std::chrono::steady_clock::duration(shared_session_cache_ttl)
                                : std::chrono::steady_clock::duration(session_cache_ttl);
        if (it != sessions_.end() && now - it->second.fetched < ttl) co_return it->second.user;
    }
    // Sessions are only cached while valid; expiry is re-checked here at least every TTL.
    auto user = co_await db_.run([h = token_hash, t = unix_now()](store::store& s) { return s.session_user(h, t); });
    std::lock_guard lock(cache_mu_);
    if (!user) {
        sessions_.erase(token_hash);
        co_return user;
    }
    if (sessions_.size() >= 100'000) sessions_.clear();
    sessions_[token_hash] = {*user, now};
    co_return user;
}

void auth_service::forget_user(store::id_t user_id) {
    std::lock_guard lock(cache_mu_);
    std::erase_if(sessions_, [&](const auto& kv) { return kv.second.user.id == user_id; });
}

awaitable<store::id_t> auth_service::add_admin(const std::string& username, const std::string& password) {
    check_username(username);
    check_password(password);
    auto hash = co_await hashing_.run([password] { return hash_password(password); });
    auto user = co_await db_.run([&, now = unix_now()](store::store& s) {
        return s.create_password_user(username, hash, true, now);
    });
    spdlog::info("admin account {} ({}) created", user.id, username);
    co_return user.id;
}

}  // namespace chatd::auth
