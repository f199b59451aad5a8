#include "wechat/login.hpp"

#include <charconv>
#include <spdlog/spdlog.h>

#include "util/app_error.hpp"
#include "util/random.hpp"
#include "util/text.hpp"
#include "wechat/crypto.hpp"
#include "util/unix_time.hpp"

namespace chatd::wechat {

namespace asio = boost::asio;
using asio::awaitable;
using clock = std::chrono::steady_clock;

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
                             login_hooks hooks)
    : api_(wechat_api), config_(std::move(cfg)), hooks_(std::move(hooks)) {}

credentials login_service::account() const {
    auto c = config_();
    return {c->wechat.api_base, c->wechat.appid, c->wechat.secret};
}

void login_service::sweep(clock::time_point now) {
    if (now - last_sweep_ < std::chrono::seconds(30)) return;
    last_sweep_ = now;
    for (auto it = by_ticket_.begin(); it != by_ticket_.end();) {
        if (it->second.expires > now) {
            ++it;
            continue;
        }
        ticket_of_scene_.erase(it->second.scene);
        if (auto b = ticket_of_browser_.find(it->second.browser); b != ticket_of_browser_.end() && b->second == it->first)
            ticket_of_browser_.erase(b);
        it = by_ticket_.erase(it);
    }
    std::erase_if(codes_, [&](const auto& kv) { return kv.second.expires <= now; });
}

awaitable<started_login> login_service::start(const std::string& browser, const std::string& ip,
                                              const std::string& invite) {
    auto now = clock::now();
    {
        std::lock_guard lock(mu_);
        sweep(now);
        // A reload of the login page shows the same code while it has a while to live.
        if (auto t = ticket_of_browser_.find(browser); t != ticket_of_browser_.end()) {
            auto& p = by_ticket_.at(t->second);
            auto left = std::chrono::duration_cast<std::chrono::seconds>(p.expires - now).count();
            if (p.openid.empty() && left > 60) {
                p.invite = invite;
                co_return started_login{t->second, p.qr_url, static_cast<int>(left)};
            }
        }
        if (by_ticket_.size() >= 20'000)
            throw app_error("too_many_requests", "登录请求太多，请稍后再试 (too many logins in progress)");
    }
    // Each code costs a WeChat API call: a client reloading in a loop is slowed down.
    if (!limiter_.allow("start:" + ip, 30, std::chrono::minutes(10)))
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
    std::lock_guard lock(mu_);
    pending p{scene, browser, invite, "", q.url, clock::now() + std::chrono::seconds(lifetime)};
    if (auto old = ticket_of_browser_.find(browser); old != ticket_of_browser_.end()) {
        // The browser's previous code is replaced: only the newest one can log it in.
        if (auto o = by_ticket_.find(old->second); o != by_ticket_.end()) {
            ticket_of_scene_.erase(o->second.scene);
            by_ticket_.erase(o);
        }
    }
    ticket_of_scene_[scene] = q.ticket;
    ticket_of_browser_[browser] = q.ticket;
    by_ticket_[q.ticket] = std::move(p);
    co_return started_login{q.ticket, q.url, lifetime};
}

scanned_login login_service::poll(const std::string& ticket, const std::string& browser) {
    std::lock_guard lock(mu_);
    auto now = clock::now();
    sweep(now);
    scanned_login r;
    auto it = by_ticket_.find(ticket);
    if (it == by_ticket_.end() || !constant_time_equal(it->second.browser, browser)) {
        r.status = scanned_login::state::expired;
        return r;
    }
    auto& p = it->second;
    if (p.expires <= now) r.status = scanned_login::state::expired;
    else if (p.openid.empty()) return r;
    else {
        r.status = scanned_login::state::confirmed;
        r.openid = p.openid;
        r.invite = p.invite;
    }
    ticket_of_scene_.erase(p.scene);
    if (auto b = ticket_of_browser_.find(p.browser); b != ticket_of_browser_.end() && b->second == ticket)
        ticket_of_browser_.erase(b);
    by_ticket_.erase(it);
    return r;
}

std::optional<std::string> login_service::redeem_code(const std::string& code) {
    auto slot = guesses_.reserve();
    if (!slot)
        throw app_error("too_many_requests",
                        "登录码尝试次数过多，请一分钟后再试 (too many login code attempts; try again in a minute)");
    std::lock_guard lock(mu_);
    auto it = codes_.find(code);
    if (it == codes_.end()) return std::nullopt;
    auto c = std::move(it->second);
    codes_.erase(it);
    if (c.expires <= clock::now()) return std::nullopt;
    guesses_.give_back(*slot);
    return c.openid;
}

std::string login_service::on_keyword(const std::string& openid) {
    if (!limiter_.allow("code:" + openid, 5, std::chrono::minutes(10)))
        return "获取验证码太频繁，请 10 分钟后再试。";
    std::lock_guard lock(mu_);
    auto now = clock::now();
    sweep(now);
    if (codes_.size() >= 100'000) return "当前登录人数太多，请稍后再试。";
    std::string code;
    do code = random_digits(code_digits);
    while (codes_.contains(code));
    codes_[code] = {openid, now + std::chrono::seconds(code_seconds)};
    return "您的登录验证码：" + code + "\n" + std::to_string(code_seconds / 60) + " 分钟内有效，仅可使用一次。";
}

awaitable<std::string> login_service::on_scan(const std::string& openid, const std::string& scene,
                                              const std::string& ticket) {
    const std::string expired = "二维码已过期，请在网页上刷新后重新扫码。";
    {
        std::lock_guard lock(mu_);
        auto t = ticket_of_scene_.find(scene);
        if (t == ticket_of_scene_.end() || (!ticket.empty() && ticket != t->second)) co_return expired;
        auto& p = by_ticket_.at(t->second);
        if (p.expires <= clock::now()) co_return expired;
        if (!p.openid.empty() && p.openid != openid) co_return "这个二维码已被其他微信扫过，请在网页上刷新。";
    }
    bool banned = co_await hooks_.is_banned(openid);
    {
        // The scene may have expired or been spent while the database answered.
        std::lock_guard lock(mu_);
        auto t = ticket_of_scene_.find(scene);
        if (t == ticket_of_scene_.end()) co_return expired;
        by_ticket_.at(t->second).openid = openid;
    }
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
        co_return on_keyword(from);
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
    auto [seen, reply] = pushes_.admit(timestamp, nonce, message);
    if (seen == push_memory::verdict::reused) co_return refuse(req, 403, "signature reused for another message");
    if (seen == push_memory::verdict::full) co_return refuse(req, 503, "too many pushes to remember");
    if (seen == push_memory::verdict::first) {
        try {
            reply = co_await on_message(msg);
        } catch (...) {
            pushes_.forget(message);
            throw;
        }
        pushes_.answered(message, reply);
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
