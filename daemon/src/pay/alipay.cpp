#include "pay/alipay.hpp"

#include <boost/json.hpp>
#include <algorithm>
#include <chrono>
#include <ctime>

#include "util/base64.hpp"
#include "util/text.hpp"
#include "util/unix_time.hpp"

namespace chatd::pay {

namespace json = boost::json;
using boost::asio::awaitable;

std::string alipay_signed_part(std::string_view body, std::string_view name) {
    auto key = "\"" + std::string(name) + "\"";
    auto at = body.find(key);
    if (at == std::string_view::npos) return {};
    auto open = body.find('{', at + key.size());
    if (open == std::string_view::npos) return {};
    // To the matching brace, skipping braces inside strings.
    int depth = 0;
    bool in_string = false;
    for (auto i = open; i < body.size(); ++i) {
        char c = body[i];
        if (in_string) {
            if (c == '\\') ++i;
            else if (c == '"') in_string = false;
        } else if (c == '"') {
            in_string = true;
        } else if (c == '{') {
            ++depth;
        } else if (c == '}' && --depth == 0) {
            return std::string(body.substr(open, i - open + 1));
        }
    }
    return {};
}

awaitable<json::object> alipay::call(std::string method, json::object biz, std::string notify_url) {
    form fields{{"app_id", account_.app_id}, {"method", method},   {"format", "JSON"},
                {"charset", "utf-8"},        {"sign_type", "RSA2"}, {"timestamp", china_time(unix_now(), "%Y-%m-%d %H:%M:%S")},
                {"version", "1.0"},          {"notify_url", notify_url}, {"biz_content", json::serialize(biz)}};
    fields.emplace_back("sign", base64_encode(account_.app_key.sign(sign_text(fields, true))));
    auto r = co_await http_.request("POST", account_.gateway,
                                    {{"Content-Type", "application/x-www-form-urlencoded;charset=utf-8"}},
                                    encode_form(fields), provider_timeout);
    if (r.status == 0) throw provider_error("Alipay " + method + ": " + r.error);
    if (r.status != 200) throw provider_error("Alipay " + method + ": HTTP " + std::to_string(r.status));
    auto response_name = method;
    for (auto& c : response_name)
        if (c == '.') c = '_';
    response_name += "_response";
    auto part = alipay_signed_part(r.body, response_name);
    boost::system::error_code ec;
    auto whole = json::parse(r.body, ec);
    if (part.empty() || ec || !whole.is_object())
        throw provider_error("Alipay " + method + ": no " + response_name + " in the answer");
    auto sign = base64_decode(json_text(whole.get_object(), "sign"));
    if (!sign || !account_.alipay_key.verify(part, *sign))
        throw provider_error("Alipay " + method + ": the answer's signature does not verify");
    auto inner = json::parse(part, ec);
    if (ec || !inner.is_object()) throw provider_error("Alipay " + method + ": unreadable answer");
    co_return std::move(inner.get_object());
}

awaitable<placed> alipay::place(const store::order_row& order, const std::string& notify_url, const std::string&) {
    auto minutes = std::max<std::int64_t>(1, (order.expires_at - order.created_at) / 60);
    auto o = co_await call("alipay.trade.precreate",
                           json::object{{"out_trade_no", order.order_no},
                                        {"total_amount", yuan(order.amount_cents)},
                                        {"subject", std::string(utf8_prefix(order.plan_name, 250))},
                                        {"product_code", "FACE_TO_FACE_PAYMENT"},
                                        {"timeout_express", std::to_string(minutes) + "m"}},
                           notify_url);
    if (json_text(o, "code") != "10000" || json_text(o, "qr_code").empty())
        throw provider_error("Alipay refused the order: " + json_text(o, "code") + " " + json_text(o, "sub_code") + " " +
                             std::string(utf8_prefix(json_text(o, "sub_msg"), 200)));
    // The qr_code link opens the Alipay app on a phone, and is what the QR shows elsewhere.
    co_return placed{json_text(o, "qr_code"), json_text(o, "qr_code"), ""};
}

awaitable<trade> alipay::query(const store::order_row& order) {
    auto o = co_await call("alipay.trade.query", json::object{{"out_trade_no", order.order_no}});
    trade out;
    // Before anyone scans, Alipay has no trade yet: ACQ.TRADE_NOT_EXIST means still pending.
    if (json_text(o, "code") != "10000") {
        if (json_text(o, "sub_code") == "ACQ.TRADE_NOT_EXIST") co_return out;
        throw provider_error("Alipay query: " + json_text(o, "code") + " " + json_text(o, "sub_code"));
    }
    auto status = json_text(o, "trade_status");
    out.trade_no = json_text(o, "trade_no");
    if (status == "TRADE_SUCCESS" || status == "TRADE_FINISHED") {
        auto cents = parse_yuan(json_text(o, "total_amount"));
        if (!cents) throw provider_error("Alipay query: unreadable total_amount");
        out.state = trade_state::paid;
        out.amount_cents = *cents;
    } else if (status == "TRADE_CLOSED") {
        out.state = trade_state::closed;
    }
    co_return out;
}

awaitable<void> alipay::close(const store::order_row& order) {
    // cancel, not close: close cannot end a QR nobody has scanned yet (there is no trade to
    // close), and the QR would stay payable. A payment made in the very last moment is
    // refunded by the cancel, so nobody pays for an order that closes.
    auto o = co_await call("alipay.trade.cancel", json::object{{"out_trade_no", order.order_no}});
    if (json_text(o, "code") != "10000" && json_text(o, "sub_code") != "ACQ.TRADE_NOT_EXIST")
        throw provider_error("Alipay cancel: " + json_text(o, "code") + " " + json_text(o, "sub_code"));
}

checked_notice alipay::check(const net::request& n) const {
    auto fields = parse_form(n.method == "POST" ? std::string_view(n.body) : std::string_view(n.query));
    auto sign = base64_decode(field(fields, "sign"));
    if (!sign || !account_.alipay_key.verify(sign_text(fields), *sign)) return {std::nullopt, "bad signature"};
    if (field(fields, "app_id") != account_.app_id) return {std::nullopt, "another app's app_id"};
    auto cents = parse_yuan(field(fields, "total_amount"));
    if (!cents) return {std::nullopt, "unreadable total_amount"};
    auto status = field(fields, "trade_status");
    return {notice{field(fields, "out_trade_no"), field(fields, "trade_no"), *cents,
                   status == "TRADE_SUCCESS" || status == "TRADE_FINISHED"},
            {}};
}

net::response alipay::accepted() const { return {200, "text/plain; charset=utf-8", "success", {}, {}}; }

net::response alipay::refused() const { return {400, "text/plain; charset=utf-8", "fail", {}, {}}; }

}  // namespace chatd::pay
