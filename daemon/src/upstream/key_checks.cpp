#include "upstream/key_checks.hpp"

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <spdlog/spdlog.h>

#include "upstream/error_reply.hpp"
#include "upstream/providers.hpp"
#include "util/text.hpp"
#include "util/unix_time.hpp"

namespace chatd::upstream {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

constexpr auto check_timeout = std::chrono::seconds(20);

std::vector<std::pair<std::string, std::string>> auth_headers(const std::string& secret) {
    return {{"Authorization", "Bearer " + secret}, {"Accept", "application/json"}};
}

// The same facts a streamed answer reports, from a plain response.
outcome outcome_of(const http_response& r) {
    outcome o;
    if (r.status == 0) {
        o.what = outcome::kind::connect_failed;
        o.error_message = r.error;
        return o;
    }
    o.http_status = r.status;
    if (r.status >= 200 && r.status < 300) return o;
    o.what = outcome::kind::http_error;
    o.retry_after_s = r.retry_after_s;
    take_error_body(r.body, o);
    return o;
}

}  // namespace

std::string balance_url(std::string_view provider_id, std::string_view base) {
    auto* p = find_provider(provider_id);
    if (!p || p->balance_path.empty()) return {};
    std::string b(base);
    while (!b.empty() && b.back() == '/') b.pop_back();
    if (p->balance_beside_v1 && b.ends_with("/v1")) b.resize(b.size() - 3);
    return b + std::string(p->balance_path);
}

std::optional<std::pair<double, std::string>> parse_balance(std::string_view provider_id, std::string_view body) {
    auto* p = find_provider(provider_id);
    if (!p || !p->parse_balance) return std::nullopt;
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec) return std::nullopt;
    return p->parse_balance(v);
}

awaitable<key_test_result> test_key(client& c, key_pool& pool, std::int64_t id, const std::string& default_base) {
    key_test_result r;
    r.id = id;
    std::optional<pool_key> key;
    for (auto& k : pool.snapshot())
        if (k.id == id) key = k;
    if (!key) {
        r.status = "removed";
        r.reason = "no such key";
        co_return r;
    }
    std::string base = key->base_url.empty() ? default_base : key->base_url;
    while (!base.empty() && base.back() == '/') base.pop_back();
    auto resp = co_await c.request("GET", base + "/models", auth_headers(key->secret), "", check_timeout);
    auto o = outcome_of(resp);
    r.ok = o.what == outcome::kind::ok;
    if (!r.ok) {
        r.reason = o.http_status ? "HTTP " + std::to_string(o.http_status) : std::string("network");
        if (!o.error_code.empty()) r.reason += " " + o.error_code;
        if (!o.error_message.empty()) r.reason += ": " + std::string(utf8_prefix(o.error_message, 200));
        else if (!resp.error.empty()) r.reason += ": " + resp.error;
    }
    r.status = pool.record_test(id, o, unix_now());
    spdlog::info("key {} ({}) tested: {}{}", id, mask_secret(key->secret), r.ok ? "works" : "fails",
                 r.ok ? "" : " (" + r.reason + ")");
    co_return r;
}

awaitable<key_balance> query_balance(client& c, const pool_key& key, const std::string& default_base) {
    key_balance r;
    r.id = key.id;
    auto url = balance_url(key.provider, key.base_url.empty() ? default_base : key.base_url);
    if (url.empty()) {
        r.error = "not available for provider " + key.provider;
        co_return r;
    }
    auto resp = co_await c.request("GET", url, auth_headers(key.secret), "", check_timeout);
    if (resp.status == 0) {
        r.error = "cannot reach the provider: " + resp.error;
    } else if (resp.status < 200 || resp.status >= 300) {
        r.error = "the provider answered HTTP " + std::to_string(resp.status);
    } else if (auto b = parse_balance(key.provider, resp.body)) {
        r.balance = b->first;
        r.currency = b->second;
    } else {
        r.error = "the provider's answer was not a balance";
    }
    co_return r;
}

awaitable<void> recheck_invalid_keys(client& c, key_pool& pool, recheck_hooks hooks) {
    boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
    auto last = std::chrono::steady_clock::now();
    for (;;) {
        t.expires_after(std::chrono::seconds(30));
        auto [ec] = co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        if (ec || hooks.stopping()) co_return;
        if (std::chrono::steady_clock::now() - last < hooks.period()) continue;
        if (!co_await hooks.leading()) continue;
        last = std::chrono::steady_clock::now();
        auto now = unix_now();
        for (auto& k : pool.snapshot()) {
            if (!k.enabled || k.shown_status(now) != "invalid") continue;
            auto r = co_await test_key(c, pool, k.id, hooks.default_base_url());
            if (!r.ok) continue;
            try {
                co_await hooks.on_recovered(k.id);
            } catch (const std::exception& e) {  // the key is back either way; only its record waits
                spdlog::warn("key {} recovered but could not be recorded: {}", k.id, e.what());
            }
        }
    }
}

}  // namespace chatd::upstream
