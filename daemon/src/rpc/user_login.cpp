// Logging in and out (CONTRACT §5): WeChat QR and code logins, password accounts.
#include <boost/asio/use_awaitable.hpp>

#include "rpc/handlers.hpp"
#include "util/random.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

auth::client_info client_of(const call_context& ctx) { return {ctx.peer, ctx.user_agent}; }

// Ties a QR login to the browser that started it: only that browser's polls can confirm it.
constexpr std::string_view login_cookie = "chatd_wxlogin";

std::string wechat_mode(services& s) {
    auto mode = s.get_config()->wechat.mode;
    if (mode == "off") throw app_error("forbidden", "本站未开放微信登录 (WeChat login is off)");
    return mode;
}

}  // namespace

awaitable<json::value> auth_wechat_start(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto cfg = s.get_config();
    if (wechat_mode(s) == "code") {
        json::object r{{"mode", "code"}, {"keyword", cfg->wechat.code_keyword}};
        if (!cfg->wechat.account_qr_url.empty()) r["account_qr_url"] = cfg->wechat.account_qr_url;
        co_return r;
    }
    auto browser = auth::auth_service::cookie_value(ctx.cookies, login_cookie);
    if (browser.size() < 20 || browser.size() > 64) {
        browser = random_token(24);
        ctx.set_cookies.push_back(std::string(login_cookie) + "=" + browser +
                                  "; Path=/rpc; HttpOnly; SameSite=Lax; Max-Age=3600" +
                                  (ctx.secure ? "; Secure" : ""));
    }
    auto started = co_await s.wechat.start(sha256_hex(browser), ctx.peer, p.opt_str("invite").value_or(""));
    co_return json::object{{"mode", "qr"},
                           {"ticket", started.ticket},
                           {"qr_url", started.qr_url},
                           {"expires_in", started.expires_in}};
}

awaitable<json::value> auth_wechat_poll(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    if (wechat_mode(s) != "qr") throw app_error("forbidden", "本站未开放扫码登录 (QR login is off)");
    auto browser = auth::auth_service::cookie_value(ctx.cookies, login_cookie);
    auto scanned = co_await s.wechat.poll(p.str("ticket"), sha256_hex(browser));
    using state = wechat::scanned_login::state;
    if (scanned.status == state::pending) co_return json::object{{"status", "pending"}};
    if (scanned.status == state::expired) co_return json::object{{"status", "expired"}};
    auto account = s.wechat.account();
    auto r = co_await s.auth.login_wechat(
        scanned.openid, client_of(ctx), ctx.secure, scanned.invite,
        [&s, account, openid = scanned.openid]() { return s.wechat_api.unionid_of(account, openid); });
    ctx.set_cookies.push_back(r.set_cookie);
    co_return json::object{{"status", "confirmed"}, {"user", user_json(r.user)}};
}

awaitable<json::value> auth_wechat_code(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    if (wechat_mode(s) != "code") throw app_error("forbidden", "本站未开放验证码登录 (code login is off)");
    auto code = trim(p.str("code"));
    auto limit = static_cast<int>(s.site.get_int("limits.login_attempts_per_15min"));
    auto key = "wxcode:" + ctx.peer;
    // The attempt is counted before its code is checked, so a concurrent burst from one
    // address cannot get past the limit; only wrong codes keep their count.
    auto attempt = co_await s.abuse.allow(key, limit, std::chrono::minutes(15));
    if (!attempt)
        throw app_error("too_many_requests", "尝试太多，请 15 分钟后再试 (too many attempts; wait 15 minutes)");
    std::optional<std::string> openid;
    std::exception_ptr unchecked;
    try {
        openid = co_await s.wechat.redeem_code(code);
    } catch (...) {
        unchecked = std::current_exception();  // refused by the site-wide budget: nothing was checked
    }
    if (unchecked) {
        co_await s.abuse.release(*attempt);
        std::rethrow_exception(unchecked);
    }
    if (!openid) throw app_error("login_expired", "验证码错误或已过期 (wrong or expired code)");
    co_await s.abuse.release(*attempt);
    auto r = co_await s.auth.login_wechat(*openid, client_of(ctx), ctx.secure,
                                          p.opt_str("invite").value_or(""));
    ctx.set_cookies.push_back(r.set_cookie);
    co_return json::object{{"user", user_json(r.user)}};
}

awaitable<json::value> auth_password_register(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto invite = p.opt_str("invite").value_or("");
    auto r = co_await s.auth.register_password(p.str("username"), p.str("password"), client_of(ctx),
                                               ctx.secure, invite);
    ctx.set_cookies.push_back(r.set_cookie);
    co_return json::object{{"user", user_json(r.user)}};
}

awaitable<json::value> auth_password_login(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto r = co_await s.auth.login_password(p.str("username"), p.str("password"), client_of(ctx), ctx.secure);
    ctx.set_cookies.push_back(r.set_cookie);
    co_return json::object{{"user", user_json(r.user)}};
}

awaitable<json::value> auth_logout(services& s, const json::value&, call_context& ctx) {
    co_await s.auth.logout(ctx.session_token_hash);
    ctx.set_cookies.push_back(s.auth.clear_cookie(ctx.secure));
    co_return json::object{};
}

}  // namespace chatd::rpc
