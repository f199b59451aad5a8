#include "wechat/login.hpp"

#include <charconv>
#include <exception>
#include <spdlog/spdlog.h>

#include "util/app_error.hpp"
#include "util/random.hpp"
#include "util/text.hpp"
#include "wechat/crypto.hpp"
#include "util/unix_time.hpp"

namespace chatd::wechat {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

std::string field(const xml_fields& f, std::string_view name) {
    auto it = f.find(name);
    return it == f.end() ? std::string() : it->second;
}

// What makes a push the same message when WeChat delivers it again: the sender, and the MsgId
// of a message or the CreateTime, type and Event of an event.
std::string message_id_of(const xml_fields& msg) {
    auto from = field(msg, "FromUserName");
    if (auto msg_id = field(msg, "MsgId"); !msg_id.empty()) return "m/" + from + "/" + msg_id;
    return "e/" + from + "/" + field(msg, "CreateTime") + "/" + field(msg, "MsgType") + "/" + field(msg, "Event");
}

net::response text(int status, std::string body) {
    net::response r;
    r.status = status;
    r.content_type = "text/plain; charset=utf-8";
    r.body = std::move(body);
    return r;
}

// Refused callbacks are logged without their bodies: they may be anyone's junk.
net::response refuse(const net::request& req, int status, const char* why) {
    spdlog::warn("wechat callback from {} refused: {}", req.peer, why);
    return text(status, why);
}

}  // namespace

login_service::login_service(api& wechat_api, std::function<std::shared_ptr<const config>()> cfg,
                             login_hooks hooks, std::unique_ptr<login_state> state,
                             store::attempt_limiter& limiter)
    : api_(wechat_api),
      config_(std::move(cfg)),
      hooks_(std::move(hooks)),
      limiter_(limiter),
      state_(std::move(state)) {}

credentials login_service::account() const {
    auto c = config_();
    return {c->wechat.api_base, c->wechat.appid, c->wechat.secret};
}

awaitable<started_login> login_service::start(const std::string& browser, const std::string& ip,
                                              const std::string& invite) {
    if (auto same = co_await state_->reuse(browser, invite)) co_return *same;
    // Each code costs a WeChat API call: a client reloading in a loop is slowed down.
    if (!co_await limiter_.allow("wechat-start:" + ip, 30, std::chrono::minutes(10)))
        throw app_error("too_many_requests", "刷新太频繁，请稍后再试 (too many login codes; wait a few minutes)");
    auto scene = "login_" + random_hex(16);
    qr_code q;
    try {
        q = co_await api_.create_qr(account(), scene, qr_seconds);
    } catch (const api_error& e) {
        spdlog::error("wechat: cannot create a login QR code: {}", e.what());
        throw app_error("wechat_unavailable", "微信登录暂时不可用，请稍后再试 (WeChat login is unavailable right now)");
    }
    auto lifetime = std::min(q.expire_seconds > 0 ? q.expire_seconds : qr_seconds, qr_seconds);
    if (!co_await state_->add({q.ticket, scene, browser, invite, q.url, lifetime}))
        throw app_error("too_many_requests", "登录请求太多，请稍后再试 (too many logins in progress)");
    co_return started_login{q.ticket, q.url, lifetime};
}

awaitable<scanned_login> login_service::poll(const std::string& ticket, const std::string& browser) {
    co_return co_await state_->poll(ticket, browser);
}

awaitable<std::optional<std::string>> login_service::redeem_code(const std::string& code) {
    auto attempt = co_await state_->redeem_code(code);
    if (attempt.refused)
        throw app_error("too_many_requests",
                        "登录码尝试次数过多，请一分钟后再试 (too many login code attempts; try again in a minute)");
    co_return attempt.openid;
}

awaitable<std::string> login_service::on_keyword(const std::string& openid) {
    if (!co_await limiter_.allow("wechat-code:" + openid, 5, std::chrono::minutes(10)))
        co_return "获取验证码太频繁，请 10 分钟后再试。";
    auto code = co_await state_->issue_code(openid, code_seconds, [] { return random_digits(code_digits); });
    if (!code) co_return "当前登录人数太多，请稍后再试。";
    co_return "您的登录验证码：" + *code + "\n" + std::to_string(code_seconds / 60) + " 分钟内有效，仅可使用一次。";
}

awaitable<std::string> login_service::on_scan(const std::string& openid, const std::string& scene,
                                              const std::string& ticket) {
    bool banned = co_await hooks_.is_banned(openid);
    switch (co_await state_->bind(scene, ticket, openid)) {
        case scan_result::expired: co_return "二维码已过期，请在网页上刷新后重新扫码。";
        case scan_result::taken: co_return "这个二维码已被其他微信扫过，请在网页上刷新。";
        case scan_result::bound: break;
    }
    // A banned user's scan is bound all the same: the browser's poll is then refused.
    if (banned) co_return "该账号已被封禁，无法登录。";
    co_return "登录成功，欢迎使用" + hooks_.site_name() + "！请回到网页继续。";
}

awaitable<std::string> login_service::on_message(const xml_fields& msg) {
    auto cfg = config_();
    auto type = field(msg, "MsgType");
    auto from = field(msg, "FromUserName");
    if (from.empty()) co_return "";
    if (type == "event") {
        auto event = field(msg, "Event");
        auto key = field(msg, "EventKey");
        if (cfg->wechat.mode == "qr" && event == "subscribe" && key.starts_with("qrscene_"))
            co_return co_await on_scan(from, key.substr(8), field(msg, "Ticket"));
        if (cfg->wechat.mode == "qr" && event == "SCAN") co_return co_await on_scan(from, key, field(msg, "Ticket"));
        if (event == "subscribe") {
            auto welcome = "感谢关注" + hooks_.site_name() + "！";
            if (cfg->wechat.mode == "code") welcome += "发送「" + cfg->wechat.code_keyword + "」获取网页登录码。";
            co_return welcome;
        }
        co_return "";
    }
    if (type == "text" && cfg->wechat.mode == "code" && trim(field(msg, "Content")) == cfg->wechat.code_keyword)
        co_return co_await on_keyword(from);
    co_return "";
}

awaitable<net::response> login_service::callback(const net::request& req) {
    auto cfg = config_();
    if (cfg->wechat.mode == "off") co_return text(404, "WeChat login is off");
    auto timestamp = req.query_param("timestamp");
    auto nonce = req.query_param("nonce");
    auto expected = signature({cfg->wechat.token, timestamp, nonce});
    if (timestamp.empty() || nonce.empty() || !constant_time_equal(expected, req.query_param("signature")))
        co_return refuse(req, 403, "invalid signature");
    if (req.method == "GET") {
        auto echo = req.query_param("echostr");
        if (echo.empty()) co_return text(400, "echostr missing");
        co_return text(200, echo);
    }
    if (req.method != "POST") co_return text(405, "GET or POST");

    std::int64_t sent_at = 0;
    auto [end, ec] = std::from_chars(timestamp.data(), timestamp.data() + timestamp.size(), sent_at);
    if (ec != std::errc() || end != timestamp.data() + timestamp.size() ||
        std::abs(unix_now() - sent_at) > max_clock_skew_s)
        co_return refuse(req, 403, "stale timestamp");
    if (req.body.size() > 64 * 1024) co_return refuse(req, 413, "body too large");
    auto outer = parse_xml(req.body);
    if (!outer) co_return refuse(req, 400, "malformed XML");

    bool safe = req.query_param("encrypt_type") == "aes";
    std::optional<std::string> key;
    xml_fields msg;
    if (safe) {
        key = aes_key_of(cfg->wechat.encoding_aes_key);
        if (!key) co_return refuse(req, 400, "safe mode push, but wechat.encoding_aes_key is not set");
        auto encrypted = field(*outer, "Encrypt");
        if (encrypted.empty() ||
            !constant_time_equal(signature({cfg->wechat.token, timestamp, nonce, encrypted}),
                                 req.query_param("msg_signature")))
            co_return refuse(req, 403, "invalid msg_signature");
        auto opened = open(*key, encrypted);
        // Just after the operator changes the key WeChat may still seal with the old one; the
        // reply then goes back under the key the push came in.
        if (auto previous = aes_key_of(cfg->wechat.previous_encoding_aes_key); !opened && previous) {
            opened = open(*previous, encrypted);
            if (opened) key = previous;
        }
        if (!opened) co_return refuse(req, 400, "cannot decrypt");
        if (opened->appid != cfg->wechat.appid) co_return refuse(req, 403, "sealed for another appid");
        auto inner = parse_xml(opened->xml);
        if (!inner) co_return refuse(req, 400, "malformed XML inside Encrypt");
        msg = std::move(*inner);
    } else {
        msg = std::move(*outer);
    }
    auto from = field(msg, "FromUserName");
    if (auto openid = req.query_param("openid"); !openid.empty() && openid != from)
        co_return refuse(req, 403, "openid does not match FromUserName");

    // WeChat retries a push it got no answer to within 5 s: the retry gets the first answer.
    static_assert(push_memory::keep >= 2 * std::chrono::seconds(max_clock_skew_s),
                  "a signature must be remembered while its timestamp can be accepted");
    auto message = message_id_of(msg);
    auto [seen, reply] = co_await state_->admit_push(timestamp, nonce, message);
    if (seen == push_memory::verdict::reused) co_return refuse(req, 403, "signature reused for another message");
    if (seen == push_memory::verdict::full) co_return refuse(req, 503, "too many pushes to remember");
    if (seen == push_memory::verdict::first) {
        std::exception_ptr failed;
        try {
            reply = co_await on_message(msg);
        } catch (...) {
            failed = std::current_exception();
        }
        if (failed) {
            co_await state_->forget(message);
            std::rethrow_exception(failed);
        }
        co_await state_->answered(message, reply);
    }
    // An empty answer or "success" tells WeChat there is nothing to say to the user.
    if (reply.empty()) co_return text(200, "success");
    auto body = text_reply(from, field(msg, "ToUserName"), unix_now(), reply);
    if (safe) {
        auto sealed = seal(*key, cfg->wechat.appid, body);
        auto reply_ts = std::to_string(unix_now());
        auto reply_nonce = std::to_string(std::stoull(random_hex(4), nullptr, 16));
        body = encrypted_reply(sealed, signature({cfg->wechat.token, reply_ts, reply_nonce, sealed}), reply_ts,
                               reply_nonce);
    }
    net::response r;
    r.content_type = "application/xml; charset=utf-8";
    r.body = std::move(body);
    co_return r;
}

}  // namespace chatd::wechat
