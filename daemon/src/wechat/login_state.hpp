#pragma once
// Where WeChat login state lives: pending QR logins (scene ↔ ticket ↔ browser), one-time
// codes, the site-wide budget of wrong codes and the pushes already seen. One instance keeps
// it in memory (memory_login_state); instances sharing a database keep it there
// (shared_login_state), so a login started on one can be scanned through another and polled
// on a third. Each step that must happen once (a confirmed login handed out, a code spent, a
// push handled) is one atomic step of the state, whichever instance takes it.
#include <boost/asio/awaitable.hpp>
#include <functional>
#include <optional>
#include <string>

#include "wechat/push_memory.hpp"

namespace chatd::wechat {

struct started_login {
    std::string ticket;
    std::string qr_url;
    int expires_in = 0;
};

struct scanned_login {
    enum class state { pending, confirmed, expired } status = state::pending;
    std::string openid;  // when confirmed
    std::string invite;  // the referral the browser brought when it started
};

struct qr_login {
    std::string ticket, scene, browser, invite, qr_url;
    int lifetime_s = 0;
};

enum class scan_result { bound, expired, taken };

struct code_attempt {
    bool refused = false;               // the budget of wrong codes is spent: nothing was checked
    std::optional<std::string> openid;  // the code was right; it is spent now
};

class login_state {
public:
    virtual ~login_state() = default;

    // The browser's unscanned login with more than `reuse_min_left_s` to live, its invite
    // replaced: a reload of the login page shows the same code.
    virtual boost::asio::awaitable<std::optional<started_login>> reuse(const std::string& browser,
                                                                       const std::string& invite) = 0;
    // Replaces the browser's previous login (only the newest code logs it in); false when full.
    virtual boost::asio::awaitable<bool> add(qr_login login) = 0;
    // The scan binds `openid` to the scene's live login (`ticket`, when given, must match).
    virtual boost::asio::awaitable<scan_result> bind(const std::string& scene, const std::string& ticket,
                                                     const std::string& openid) = 0;
    // Only the browser that started a login may poll it; a confirmed login is handed out once
    // and its ticket is spent.
    virtual boost::asio::awaitable<scanned_login> poll(const std::string& ticket, const std::string& browser) = 0;

    // A fresh code from `new_code` for `openid`, valid `lifetime_s`; none when too many wait.
    virtual boost::asio::awaitable<std::optional<std::string>> issue_code(const std::string& openid, int lifetime_s,
                                                                          std::function<std::string()> new_code) = 0;
    // One attempt within the site-wide budget of wrong codes (wrong_codes_per_minute).
    virtual boost::asio::awaitable<code_attempt> redeem_code(const std::string& code) = 0;

    // WeChat's pushes, as push_memory: the first delivery of a message is handled, its
    // retries (to any instance) get its first reply.
    virtual boost::asio::awaitable<push_memory::admission> admit_push(const std::string& timestamp,
                                                                      const std::string& nonce,
                                                                      const std::string& message) = 0;
    virtual boost::asio::awaitable<void> answered(const std::string& message, const std::string& reply) = 0;
    virtual boost::asio::awaitable<void> forget(const std::string& message) = 0;

    static constexpr int reuse_min_left_s = 60;
    static constexpr int max_pending_logins = 20'000;
    static constexpr int max_codes = 100'000;
    // Wrong codes per minute from all clients together: the chance of guessing one given code
    // in its lifetime is at most 30 * 3 / 10^8 (chatd.conf(5), WeChat section).
    static constexpr int wrong_codes_per_minute = 30;
};

}  // namespace chatd::wechat
