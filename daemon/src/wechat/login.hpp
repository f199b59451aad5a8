#pragma once
// WeChat login without registration. qr mode: each browser gets a temporary string-scene QR
// code; WeChat's subscribe/SCAN push binds the scanning openid to the scene; the browser's next
// poll logs it in once. code mode: a text message equal to the keyword is answered with a
// one-time 8-digit code the browser types in. Pending logins and codes live in memory: they
// last minutes, and a restart only means scanning again.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

#include "config/config.hpp"
#include "net/http.hpp"
#include "util/rate_limiter.hpp"
#include "wechat/api.hpp"
#include "wechat/guess_budget.hpp"
#include "wechat/push_memory.hpp"
#include "wechat/xml.hpp"

namespace chatd::wechat {

struct login_hooks {
    std::function<std::string()> site_name;
    // Whether the user with this openid exists and is banned (the reply to the scan says so).
    std::function<boost::asio::awaitable<bool>(std::string openid)> is_banned;
};

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

class login_service {
public:
    login_service(api& wechat_api, std::function<std::shared_ptr<const config>()> cfg, login_hooks hooks);

    // qr mode. `browser` identifies the browser (a hash of its login cookie): only it may poll.
    boost::asio::awaitable<started_login> start(const std::string& browser, const std::string& ip,
                                                const std::string& invite);
    // A confirmed login is handed out once; the ticket is spent.
    scanned_login poll(const std::string& ticket, const std::string& browser);

    // code mode: the openid a valid code was issued to; the code is spent. Throws
    // too_many_requests, checking nothing, while the site-wide budget of wrong codes is used up.
    std::optional<std::string> redeem_code(const std::string& code);

    // GET (URL verification) and POST (pushes) on /wechat/callback.
    boost::asio::awaitable<net::response> callback(const net::request& req);

    credentials account() const;

    static constexpr int qr_seconds = 300;        // how long a login QR code is valid
    static constexpr int code_seconds = 180;      // how long a one-time code is valid
    static constexpr int code_digits = 8;
    // Wrong codes per minute from all clients together: the chance of guessing one given code
    // in its lifetime is at most 30 * 3 / 10^8 (chatd.conf(5), WeChat section).
    static constexpr int wrong_codes_per_minute = 30;
    static constexpr int max_clock_skew_s = 300;  // pushes with older timestamps are refused

private:
    struct pending {
        std::string scene, browser, invite, openid, qr_url;
        std::chrono::steady_clock::time_point expires;
    };
    struct issued_code {
        std::string openid;
        std::chrono::steady_clock::time_point expires;
    };

    boost::asio::awaitable<std::string> on_message(const xml_fields& msg);
    boost::asio::awaitable<std::string> on_scan(const std::string& openid, const std::string& scene,
                                                const std::string& ticket);
    std::string on_keyword(const std::string& openid);
    void sweep(std::chrono::steady_clock::time_point now);

    api& api_;
    std::function<std::shared_ptr<const config>()> config_;
    login_hooks hooks_;
    rate_limiter limiter_;
    guess_budget guesses_{wrong_codes_per_minute, std::chrono::minutes(1)};
    push_memory pushes_;

    std::mutex mu_;
    std::unordered_map<std::string, pending> by_ticket_;
    std::unordered_map<std::string, std::string> ticket_of_scene_;
    std::unordered_map<std::string, std::string> ticket_of_browser_;
    std::unordered_map<std::string, issued_code> codes_;
    std::chrono::steady_clock::time_point last_sweep_{};
};

}  // namespace chatd::wechat
