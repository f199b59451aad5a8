#pragma once
// WeChat login without registration. qr mode: each browser gets a temporary string-scene QR
// code; WeChat's subscribe/SCAN push binds the scanning openid to the scene; the browser's next
// poll logs it in once. code mode: a text message equal to the keyword is answered with a
// one-time 8-digit code the browser types in. Pending logins, codes and the pushes seen live
// in a login_state: in memory on one instance, in the shared database on several.
#include <boost/asio/awaitable.hpp>
#include <chrono>
#include <functional>
#include <memory>
#include <optional>
#include <string>

#include "config/config.hpp"
#include "net/http.hpp"
#include "store/attempt_limiter.hpp"
#include "wechat/api.hpp"
#include "wechat/login_state.hpp"
#include "wechat/xml.hpp"

namespace chatd::wechat {

struct login_hooks {
    std::function<std::string()> site_name;
    // Whether the user with this openid exists and is banned (the reply to the scan says so).
    std::function<boost::asio::awaitable<bool>(std::string openid)> is_banned;
};

class login_service {
public:
    // `limiter` counts QR codes per address and codes per openid (across instances when they
    // share a database).
    login_service(api& wechat_api, std::function<std::shared_ptr<const config>()> cfg, login_hooks hooks,
                  std::unique_ptr<login_state> state, store::attempt_limiter& limiter);

    // qr mode. `browser` identifies the browser (a hash of its login cookie): only it may poll.
    boost::asio::awaitable<started_login> start(const std::string& browser, const std::string& ip,
                                                const std::string& invite);
    // A confirmed login is handed out once; the ticket is spent.
    boost::asio::awaitable<scanned_login> poll(const std::string& ticket, const std::string& browser);

    // code mode: the openid a valid code was issued to; the code is spent. Throws
    // too_many_requests, checking nothing, while the site-wide budget of wrong codes is used up.
    boost::asio::awaitable<std::optional<std::string>> redeem_code(const std::string& code);

    // GET (URL verification) and POST (pushes) on /wechat/callback.
    boost::asio::awaitable<net::response> callback(const net::request& req);

    credentials account() const;

    static constexpr int qr_seconds = 300;        // how long a login QR code is valid
    static constexpr int code_seconds = 180;      // how long a one-time code is valid
    static constexpr int code_digits = 8;
    static constexpr int max_clock_skew_s = 300;  // pushes with older timestamps are refused

private:
    boost::asio::awaitable<std::string> on_message(const xml_fields& msg);
    boost::asio::awaitable<std::string> on_scan(const std::string& openid, const std::string& scene,
                                                const std::string& ticket);
    boost::asio::awaitable<std::string> on_keyword(const std::string& openid);

    api& api_;
    std::function<std::shared_ptr<const config>()> config_;
    login_hooks hooks_;
    // Per instance: behind a load balancer each instance allows this much on its own.
    store::attempt_limiter& limiter_;
    std::unique_ptr<login_state> state_;
};

}  // namespace chatd::wechat
