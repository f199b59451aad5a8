#include "upstream/key_checks.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <spdlog/spdlog.h>

#include "upstream/error_reply.hpp"
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

std::optional<double> number(const json::value* v) {
    if (!v) return std::nullopt;
    if (v->is_number()) return v->to_number<double>();
    if (v->is_string()) {
        try {
            std::size_t used = 0;
            std::string s(v->get_string());
            double d = std::stod(s, &used);
            if (used == s.size()) return d;
        } catch (const std::exception&) {
        }
    }
    return std::nullopt;
}

const json::value* at(const json::value& v, std::initializer_list<std::string_view> path) {
    const json::value* cur = &v;
    for (auto key : path) {
        if (!cur->is_object()) return nullptr;
        cur = cur->get_object().if_contains(key);
        if (!cur) return nullptr;
    }
    return cur;
}

}  // namespace

std::string balance_url(std::string_view provider, std::string_view base) {
    std::string b(base);
    while (!b.empty() && b.back() == '/') b.pop_back();
    if (provider == "deepseek") {
        if (b.ends_with("/v1")) b.resize(b.size() - 3);
        return b + "/user/balance";
    }
    if (provider == "openrouter") return b + "/credits";
    if (provider == "siliconflow") return b + "/user/info";
    if (provider == "moonshot") return b + "/users/me/balance";
    return {};
}

std::optional<std::pair<double, std::string>> parse_balance(std::string_view provider, std::string_view body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec) return std::nullopt;
    if (provider == "deepseek") {
        auto* infos = at(v, {"balance_infos"});
        if (!infos || !infos->is_array() || infos->get_array().empty()) return std::nullopt;
        const auto& first = infos->get_array().front();
        auto amount = number(at(first, {"total_balance"}));
        auto* currency = at(first, {"currency"});
        if (!amount || !currency || !currency->is_string()) return std::nullopt;
        return std::pair{*amount, std::string(currency->get_string())};
    }
    if (provider == "openrouter") {
        auto credits = number(at(v, {"data", "total_credits"}));
        auto usage = number(at(v, {"data", "total_usage"}));
        if (!credits || !usage) return std::nullopt;
        return std::pair{*credits - *usage, std::string("USD")};
    }
    if (provider == "siliconflow") {
        auto amount = number(at(v, {"data", "totalBalance"}));
        if (!amount) return std::nullopt;
        return std::pair{*amount, std::string("CNY")};
    }
    if (provider == "moonshot") {
        auto amount = number(at(v, {"data", "available_balance"}));
        if (!amount) return std::nullopt;
        return std::pair{*amount, std::string("CNY")};
    }
    return std::nullopt;
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

}  // namespace chatd::upstream
