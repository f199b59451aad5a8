#include "wechat/api.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "util/unix_time.hpp"

namespace chatd::wechat {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using clock = std::chrono::steady_clock;

namespace {

bool stale_token(int errcode) { return errcode == 40001 || errcode == 42001; }

// What the operator should do about an error, for the log.
const char* hint(int errcode) {
    switch (errcode) {
        case 40164: return " (add this server's address to the account's IP whitelist)";
        case 48001: return " (parametric QR codes need a verified service account; try wechat.mode = code)";
        case 40013: return " (check wechat.appid)";
        case 40125: return " (check wechat.secret)";
        default: return "";
    }
}

std::string query_escape(std::string_view s) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') out += static_cast<char>(c);
        else {
            out += '%';
            out += digits[c >> 4];
            out += digits[c & 15];
        }
    }
    return out;
}

}  // namespace

awaitable<json::object> api::send(std::string method, std::string url, std::string body) {
    std::vector<std::pair<std::string, std::string>> headers;
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    auto r = co_await http_.request(std::move(method), std::move(url), std::move(headers), std::move(body),
                                    std::chrono::duration_cast<std::chrono::milliseconds>(timeout));
    if (r.status == 0) throw api_error(0, "WeChat API unreachable: " + r.error);
    if (r.status != 200) throw api_error(0, "WeChat API answered HTTP " + std::to_string(r.status));
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_object()) throw api_error(0, "WeChat API answered something that is not a JSON object");
    auto& o = v.get_object();
    if (auto* code = o.if_contains("errcode"); code && code->is_int64() && code->get_int64() != 0) {
        auto* msg = o.if_contains("errmsg");
        int errcode = static_cast<int>(code->get_int64());
        throw api_error(errcode, "WeChat error " + std::to_string(errcode) + ": " +
                                     (msg && msg->is_string() ? std::string(msg->get_string()) : "") + hint(errcode));
    }
    co_return std::move(o);
}

awaitable<api::fetched_token> api::fetch_token(const credentials& c, bool force) {
    json::object body{{"grant_type", "client_credential"},
                      {"appid", c.appid},
                      {"secret", c.secret},
                      {"force_refresh", force}};
    auto o = co_await send("POST", c.api_base + "/cgi-bin/stable_token", json::serialize(body));
    auto* token = o.if_contains("access_token");
    auto* expires = o.if_contains("expires_in");
    if (!token || !token->is_string() || token->get_string().empty() || !expires || !expires->is_int64())
        throw api_error(0, "WeChat stable_token answered without access_token/expires_in");
    auto ttl = expires->get_int64();
    // Keep it until five minutes before expiry; a shorter lifetime is used for half of it.
    auto keep = ttl > 2 * refresh_margin_s ? ttl - refresh_margin_s : std::max<std::int64_t>(ttl / 2, 1);
    co_return fetched_token{std::string(token->get_string()), keep};
}

std::optional<std::string> api::cached_token(const std::string& key) {
    std::lock_guard lock(mu_);
    if (cache_for_ != key) {  // the operator changed accounts (SIGHUP)
        cache_for_ = key;
        token_.clear();
        rejected_.clear();
    }
    if (!token_.empty() && clock::now() < valid_until_) return token_;
    return std::nullopt;
}

void api::cache_token(const std::string& token, std::int64_t keep_s) {
    std::lock_guard lock(mu_);
    token_ = token;
    valid_until_ = clock::now() + std::chrono::seconds(keep_s);
}

awaitable<std::string> api::access_token(const credentials& c) {
    auto key = c.api_base + "\n" + c.appid;
    if (shared_) co_return co_await shared_token(c, key);
    asio::steady_timer wait(co_await asio::this_coro::executor);
    for (auto deadline = clock::now() + 2 * timeout;;) {
        bool mine = false, force = false;
        std::string rejected;
        {
            if (auto t = cached_token(key)) co_return *t;
            std::lock_guard lock(mu_);
            if (!refreshing_) {
                refreshing_ = mine = true;
                // WeChat limits forced refreshes (20 a day, 30 s apart): only when the token it
                // hands out normally is the one it just called stale.
                force = !rejected_.empty() && clock::now() - last_forced_ > std::chrono::seconds(30);
                if (force) last_forced_ = clock::now();
                rejected = rejected_;
            }
        }
        if (mine) {
            try {
                auto t = co_await fetch_token(c, false);
                if (force && t.token == rejected) t = co_await fetch_token(c, true);
                cache_token(t.token, t.keep_s);
                std::lock_guard lock(mu_);
                refreshing_ = false;
                if (t.token != rejected) rejected_.clear();
                co_return t.token;
            } catch (...) {
                std::lock_guard lock(mu_);
                refreshing_ = false;
                throw;
            }
        }
        // Another call is refreshing: wait for its result rather than asking WeChat twice.
        if (clock::now() > deadline) throw api_error(0, "timed out waiting for the WeChat access token");
        wait.expires_after(std::chrono::milliseconds(20));
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

awaitable<std::string> api::shared_token(const credentials& c, const std::string& key) {
    // Cached here until the database's expiry: a token another instance replaced still works
    // for minutes, and one WeChat refuses is dropped and looked up again (forget_token).
    if (auto t = cached_token(key)) co_return *t;
    asio::steady_timer wait(co_await asio::this_coro::executor);
    for (auto deadline = clock::now() + 2 * timeout;;) {
        auto now = unix_now();
        auto row = co_await shared_->run([key](store::store& s) { return s.wechat_token(key); });
        if (!row.token.empty() && row.valid_until > now) {
            cache_token(row.token, row.valid_until - now);
            co_return row.token;
        }
        auto lease = co_await shared_->run(
            [key, now](store::store& s) { return s.lease_wechat_token(key, now, now + token_lease_s); });
        if (lease) {
            // As on one instance: a forced refresh only when the normal fetch hands out the token
            // WeChat just called stale, and not within 30 s of the last (WeChat's limits).
            bool force = !lease->rejected.empty() && now - lease->last_forced > 30;
            std::optional<fetched_token> t;
            std::exception_ptr failed;
            try {
                t = co_await fetch_token(c, false);
                if (force && t->token == lease->rejected) t = co_await fetch_token(c, true);
                else force = false;
            } catch (...) {
                failed = std::current_exception();
            }
            if (failed) {
                co_await shared_->run([key](store::store& s) {
                    s.release_wechat_token(key);
                    return true;
                });
                std::rethrow_exception(failed);
            }
            auto forced_at = force ? std::optional<std::int64_t>(now) : std::nullopt;
            co_await shared_->run([key, t, valid_until = unix_now() + t->keep_s, forced_at](store::store& s) {
                s.save_wechat_token(key, t->token, valid_until, forced_at);
                return true;
            });
            cache_token(t->token, t->keep_s);
            co_return t->token;
        }
        // Another instance (or call) is fetching: wait for its token rather than ask WeChat twice.
        if (clock::now() > deadline) throw api_error(0, "timed out waiting for the WeChat access token");
        wait.expires_after(std::chrono::milliseconds(100));
        co_await wait.async_wait(asio::as_tuple(asio::use_awaitable));
    }
}

awaitable<void> api::forget_token(const credentials& c, const std::string& token) {
    {
        std::lock_guard lock(mu_);
        rejected_ = token;
        if (token_ == token) token_.clear();
    }
    if (shared_)
        co_await shared_->run([key = c.api_base + "\n" + c.appid, token](store::store& s) {
            s.reject_wechat_token(key, token);
            return true;
        });
}

awaitable<json::object> api::call(const credentials& c, std::string method, std::string path, std::string body) {
    for (int attempt = 0;; ++attempt) {
        auto token = co_await access_token(c);
        auto sep = path.find('?') == std::string::npos ? "?" : "&";
        int refused = 0;
        try {
            co_return co_await send(method, c.api_base + path + sep + "access_token=" + query_escape(token), body);
        } catch (const api_error& e) {
            if (attempt > 0 || !stale_token(e.errcode)) throw;
            refused = e.errcode;
        }
        spdlog::info("wechat: access token refused ({}); refreshing", refused);
        co_await forget_token(c, token);
    }
}

awaitable<qr_code> api::create_qr(const credentials& c, const std::string& scene, int expire_seconds) {
    json::object body{{"expire_seconds", expire_seconds},
                      {"action_name", "QR_STR_SCENE"},
                      {"action_info", json::object{{"scene", json::object{{"scene_str", scene}}}}}};
    auto o = co_await call(c, "POST", "/cgi-bin/qrcode/create", json::serialize(body));
    qr_code q;
    auto* ticket = o.if_contains("ticket");
    auto* url = o.if_contains("url");
    auto* expires = o.if_contains("expire_seconds");
    if (!ticket || !ticket->is_string() || !url || !url->is_string())
        throw api_error(0, "WeChat qrcode/create answered without ticket/url");
    q.ticket = ticket->get_string();
    q.url = url->get_string();
    q.expire_seconds = expires && expires->is_int64() ? static_cast<int>(expires->get_int64()) : expire_seconds;
    co_return q;
}

awaitable<std::optional<std::string>> api::unionid_of(const credentials& c, const std::string& openid) {
    auto o = co_await call(c, "GET", "/cgi-bin/user/info?openid=" + query_escape(openid) + "&lang=zh_CN", "");
    if (auto* u = o.if_contains("unionid"); u && u->is_string() && !u->get_string().empty())
        co_return std::string(u->get_string());
    co_return std::nullopt;
}

}  // namespace chatd::wechat
