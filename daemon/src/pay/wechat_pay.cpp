#include "pay/wechat_pay.hpp"

#include <boost/json.hpp>
#include <chrono>
#include <cstdlib>
#include <ctime>

#include "pay/form.hpp"
#include "util/base64.hpp"
#include "util/random.hpp"
#include "util/text.hpp"
#include "util/unix_time.hpp"

namespace chatd::pay {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {
constexpr std::int64_t clock_window_s = 300;

std::int64_t total_of(const json::object& o) {
    const auto* amount = o.if_contains("amount");
    const auto* total = amount && amount->is_object() ? amount->get_object().if_contains("total") : nullptr;
    return total && total->is_int64() ? total->get_int64() : -1;
}

std::optional<json::object> parse_object(std::string_view text) {
    boost::system::error_code ec;
    auto v = json::parse(text, ec);
    if (ec || !v.is_object()) return std::nullopt;
    return std::move(v.get_object());
}

}  // namespace

std::string wechat_pay::authorization(std::string_view method, std::string_view path_and_query,
                                      std::string_view body, std::int64_t timestamp, std::string_view nonce) const {
    std::string message = std::string(method) + "\n" + std::string(path_and_query) + "\n" +
                          std::to_string(timestamp) + "\n" + std::string(nonce) + "\n" + std::string(body) + "\n";
    return "WECHATPAY2-SHA256-RSA2048 mchid=\"" + account_.mchid + "\",nonce_str=\"" + std::string(nonce) +
           "\",timestamp=\"" + std::to_string(timestamp) + "\",serial_no=\"" + account_.serial_no +
           "\",signature=\"" + base64_encode(account_.merchant_key.sign(message)) + "\"";
}

std::string wechat_pay::refusal_of(std::string_view timestamp, std::string_view nonce, std::string_view signature,
                                   std::string_view serial, std::string_view body, std::int64_t now) const {
    if (timestamp.empty() || nonce.empty() || signature.empty()) return "no signature";
    // WeChat Pay sends these on purpose to see that forged signatures are refused.
    if (signature.starts_with("WECHATPAY/SIGNTEST/")) return "a signature probe";
    if (serial != account_.platform_key_id) return "signed with an unknown key " + std::string(utf8_prefix(serial, 64));
    char* end = nullptr;
    std::string ts(timestamp);
    auto at = std::strtoll(ts.c_str(), &end, 10);
    if (end != ts.c_str() + ts.size() || std::llabs(now - at) >= clock_window_s) return "timestamp outside 5 minutes";
    auto raw = base64_decode(signature);
    std::string message = ts + "\n" + std::string(nonce) + "\n" + std::string(body) + "\n";
    if (!raw || !account_.platform_key.verify(message, *raw)) return "bad signature";
    return {};
}

awaitable<upstream::http_response> wechat_pay::call(std::string method, std::string path, std::string body) {
    auto nonce = random_hex(16);
    auto header = authorization(method, path, body, unix_now(), nonce);
    std::vector<std::pair<std::string, std::string>> headers{
        {"Authorization", header}, {"Accept", "application/json"}, {"Wechatpay-Serial", account_.platform_key_id}};
    if (!body.empty()) headers.emplace_back("Content-Type", "application/json");
    auto r = co_await http_.request(method, account_.api_base + path, std::move(headers), body, provider_timeout);
    if (r.status == 0) throw provider_error("WeChat Pay " + path + ": " + r.error);
    if (r.status >= 200 && r.status < 300) {
        // An unsigned or wrongly signed success is not WeChat Pay's.
        auto why = refusal_of(r.header("wechatpay-timestamp"), r.header("wechatpay-nonce"),
                              r.header("wechatpay-signature"), r.header("wechatpay-serial"), r.body, unix_now());
        if (!why.empty()) throw provider_error("WeChat Pay " + path + ": the answer is not vouched for: " + why);
    }
    co_return r;
}

awaitable<placed> wechat_pay::place(const store::order_row& order, const std::string& notify_url,
                                    const std::string&) {
    json::object body{{"appid", account_.appid},
                      {"mchid", account_.mchid},
                      {"description", std::string(utf8_prefix(order.plan_name, 120))},
                      {"out_trade_no", order.order_no},
                      {"time_expire", china_time(order.expires_at, "%Y-%m-%dT%H:%M:%S+08:00")},
                      {"notify_url", notify_url},
                      {"amount", json::object{{"total", order.amount_cents}, {"currency", "CNY"}}}};
    auto r = co_await call("POST", "/v3/pay/transactions/native", json::serialize(body));
    auto o = parse_object(r.body);
    if (r.status != 200 || !o || json_text(*o, "code_url").empty())
        throw provider_error("WeChat Pay refused the order: HTTP " + std::to_string(r.status) + " " +
                             (o ? json_text(*o, "code") + " " + std::string(utf8_prefix(json_text(*o, "message"), 200))
                                : std::string()));
    co_return placed{json_text(*o, "code_url"), "", ""};
}

awaitable<trade> wechat_pay::query(const store::order_row& order) {
    auto r = co_await call("GET", "/v3/pay/transactions/out-trade-no/" + url_encode(order.order_no) +
                                      "?mchid=" + url_encode(account_.mchid),
                           "");
    trade out;
    if (r.status == 404) co_return out;  // ORDER_NOT_EXIST: nobody has scanned it yet
    auto o = parse_object(r.body);
    if (r.status != 200 || !o) throw provider_error("WeChat Pay query: HTTP " + std::to_string(r.status));
    auto state = json_text(*o, "trade_state");
    out.trade_no = json_text(*o, "transaction_id");
    if (state == "SUCCESS" || state == "REFUND") {
        out.state = trade_state::paid;
        out.amount_cents = total_of(*o);
    } else if (state == "CLOSED" || state == "REVOKED" || state == "PAYERROR") {
        out.state = trade_state::closed;
    }
    co_return out;
}

awaitable<void> wechat_pay::close(const store::order_row& order) {
    auto r = co_await call("POST", "/v3/pay/transactions/out-trade-no/" + url_encode(order.order_no) + "/close",
                           json::serialize(json::object{{"mchid", account_.mchid}}));
    if (r.status != 204 && r.status != 200)
        throw provider_error("WeChat Pay close: HTTP " + std::to_string(r.status));
}

checked_notice wechat_pay::check(const net::request& n) const {
    if (n.method != "POST") return {std::nullopt, "not a POST"};
    auto why = refusal_of(n.header("wechatpay-timestamp"), n.header("wechatpay-nonce"),
                          n.header("wechatpay-signature"), n.header("wechatpay-serial"), n.body, unix_now());
    if (!why.empty()) return {std::nullopt, why};
    auto envelope = parse_object(n.body);
    const auto* resource = envelope ? envelope->if_contains("resource") : nullptr;
    if (!resource || !resource->is_object()) return {std::nullopt, "no resource"};
    const auto& res = resource->get_object();
    auto sealed = base64_decode(json_text(res, "ciphertext"));
    auto plain = sealed ? aes256gcm_open(account_.api_v3_key, json_text(res, "nonce"), json_text(res, "associated_data"),
                                         *sealed)
                        : std::nullopt;
    if (!plain) return {std::nullopt, "the resource does not open with the APIv3 key"};
    auto tx = parse_object(*plain);
    if (!tx) return {std::nullopt, "the resource is not a transaction"};
    if (json_text(*tx, "mchid") != account_.mchid) return {std::nullopt, "another merchant's mchid"};
    if (json_text(*tx, "appid") != account_.appid) return {std::nullopt, "another app's appid"};
    return {notice{json_text(*tx, "out_trade_no"), json_text(*tx, "transaction_id"), total_of(*tx),
                   json_text(*tx, "trade_state") == "SUCCESS"},
            {}};
}

net::response wechat_pay::accepted() const { return {204, "application/json", "", {}, {}}; }

net::response wechat_pay::refused() const {
    return {400, "application/json", R"({"code":"FAIL","message":"失败"})", {}, {}};
}

}  // namespace chatd::pay
