#pragma once
// Accounts and sessions: password sign-up and login with rate limits, session cookies
// (only a hash of the token is stored), logout, admin accounts.
#include <boost/asio/awaitable.hpp>
#include <atomic>
#include <chrono>
#include <functional>
#include <mutex>
#include <unordered_map>
#include <memory>
#include <optional>
#include <string>

#include "store/attempt_limiter.hpp"
#include "config/config.hpp"
#include "config/settings.hpp"
#include "store/database.hpp"
#include "util/blocking_pool.hpp"

namespace chatd::auth {

struct client_info {
    std::string ip;
    std::string user_agent;
};

struct login_result {
    store::user_row user;
    std::string set_cookie;  // the Set-Cookie header value
};

class auth_service {
public:
    auth_service(store::database& db, blocking_pool& hashing, settings& s,
                 std::function<std::shared_ptr<const config>()> cfg);

    static constexpr const char* cookie_name = "chatd_session";

    boost::asio::awaitable<login_result> register_password(const std::string& username,
                                                           const std::string& password,
                                                           const client_info& client, bool secure,
                                                           const std::string& invite = "");
    boost::asio::awaitable<login_result> login_password(const std::string& username,
                                                        const std::string& password,
                                                        const client_info& client, bool secure);
    // Logs in the WeChat user `openid`, creating the account on its first login (trial grant,
    // referral, sign-up limit per client address); `unionid` is asked for only then.
    using unionid_fetcher = std::function<boost::asio::awaitable<std::optional<std::string>>()>;
    boost::asio::awaitable<login_result> login_wechat(const std::string& openid, const client_info& client,
                                                      bool secure, const std::string& invite,
                                                      unionid_fetcher unionid = {});
    boost::asio::awaitable<void> logout(const std::string& token_hash);
    // The user behind a Cookie header, with the token's hash (for logout).
    boost::asio::awaitable<std::optional<store::user_row>> resolve(std::string_view cookie_header,
                                                                   std::string& token_hash);
    boost::asio::awaitable<store::id_t> add_admin(const std::string& username, const std::string& password);
    // Drops cached sessions of a user whose rights changed (ban, admin).
    void forget_user(store::id_t user_id);

    // Password hashes waiting for or running on the hashing threads (about 40 ms each, two
    // threads). Real accounts' logins and sign-ups queue up to the first bound, then are refused
    // at once; the decoy hash for an unknown username (it hides which names exist) runs only
    // while the queue is shorter than the second, so a flood of bogus logins delays no one.
    static constexpr int max_queued_hashes = 32;
    static constexpr int max_queued_decoys = 4;

    // Sessions are looked up on every request: a short-lived cache keeps that off the database.
    // The cached row's balance may be stale; read it fresh where it is shown.
    static constexpr auto session_cache_ttl = std::chrono::seconds(30);
    // With other instances on the same database: a logout or ban there is seen here in a second.
    static constexpr auto shared_session_cache_ttl = std::chrono::seconds(1);

    std::string clear_cookie(bool secure) const;
    static std::string cookie_token(std::string_view cookie_header);
    static std::string cookie_value(std::string_view cookie_header, std::string_view name);
    static void check_username(const std::string& username);
    static void check_password(const std::string& password);

private:
    // Runs a password hash on the hashing threads, or returns nullopt when `bound` are queued.
    template <class F>
    auto hash_job(F f, int bound) -> boost::asio::awaitable<std::optional<decltype(f())>>;
    // Counts a new account from the client's address against limits.signups_per_hour.
    boost::asio::awaitable<void> count_signup(const client_info& client);
    boost::asio::awaitable<login_result> open_session(store::user_row user, const client_info& client,
                                                      bool secure);
    store::database& db_;
    blocking_pool& hashing_;
    settings& settings_;
    std::function<std::shared_ptr<const config>()> config_;
    store::attempt_limiter limiter_;
    std::atomic<int> queued_hashes_{0};

    struct cached_session {
        store::user_row user;
        std::chrono::steady_clock::time_point fetched;
    };
    std::mutex cache_mu_;
    std::unordered_map<std::string, cached_session> sessions_;
};

}  // namespace chatd::auth
