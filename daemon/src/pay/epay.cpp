#include "pay/epay.hpp"

#include <boost/json.hpp>
#include <chrono>

#include "util/random.hpp"
#include "util/text.hpp"

namespace chatd::pay {

namespace json = boost::json;
using boost::asio::awaitable;

namespace {

json::object object_of(const upstream::http_response& r, std::string_view call) {
    if (r.status == 0) throw provider_error(std::string(call) + ": " + r.error);
    if (r.status != 200) throw provider_error(std::string(call) + ": HTTP " + std::to_string(r.status));
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (ec || !v.is_object()) throw provider_error(std::string(call) + ": the answer is not a JSON object");
    return std::move(v.get_object());
}

// "epay_alipay" → "alipay".
std::string type_of(const std::string& channel) { return channel.substr(channel.find('_') + 1); }

}  // namespace

std::string epay_signature(const form& fields, const std::string& key) { return md5_hex(sign_text(fields) + key); }

std::vector<std::string> epay::channels() const {
    std::vector<std::string> out;
    for (const auto& type : account_.types) out.push_back("epay_" + type);
    return out;
}

awaitable<placed> epay::place(const store::order_row& order, const std::string& notify_url,
                              const std::string& client_ip) {
    form fields{{"pid", account_.pid},
                {"type", type_of(order.channel)},
                {"out_trade_no", order.order_no},
                {"notify_url", notify_url},
                {"return_url", account_.return_url},
                {"name", order.plan_name},
                {"money", yuan(order.amount_cents)},
                {"clientip", client_ip}};
    fields.emplace_back("sign", epay_signature(fields, account_.key));
    fields.emplace_back("sign_type", "MD5");
    auto r = co_await http_.request("POST", account_.api_base + "mapi.php",
                                    {{"Content-Type", "application/x-www-form-urlencoded"}}, encode_form(fields),
                                    provider_timeout);
    auto o = object_of(r, "mapi.php");
    if (json_text(o, "code") != "1")
        throw provider_error("mapi.php refused the order: " + std::string(utf8_prefix(json_text(o, "msg"), 200)));
    placed out;
    out.trade_no = json_text(o, "trade_no");
    out.pay_url = json_text(o, "payurl");
    out.qr_url = json_text(o, "qrcode");
    if (out.qr_url.empty()) out.qr_url = out.pay_url;
    if (out.pay_url.empty()) out.pay_url = json_text(o, "urlscheme");
    if (out.qr_url.empty() && out.pay_url.empty()) throw provider_error("mapi.php answered no payment link");
    co_return out;
}

awaitable<trade> epay::query(const store::order_row& order) {
    auto url = account_.api_base + "api.php?" +
               encode_form({{"act", "order"}, {"pid", account_.pid}, {"key", account_.key},
                            {"out_trade_no", order.order_no}});
    auto o = object_of(co_await http_.request("GET", url, {}, "", provider_timeout), "api.php");
    trade out;
    if (json_text(o, "code") != "1") co_return out;  // unknown to the provider: not paid
    out.trade_no = json_text(o, "trade_no");
    if (json_text(o, "status") == "1") {
        auto cents = parse_yuan(json_text(o, "money"));
        if (!cents) throw provider_error("api.php answered an unreadable amount");
        out.state = trade_state::paid;
        out.amount_cents = *cents;
    }
    co_return out;
}

checked_notice epay::check(const net::request& n) const {
    auto fields = parse_form(n.method == "POST" && !n.body.empty() ? std::string_view(n.body) : n.query);
    auto sign = ascii_lower(field(fields, "sign"));
    if (sign.empty() || !constant_time_equal(sign, epay_signature(fields, account_.key)))
        return {std::nullopt, "bad signature"};
    if (field(fields, "pid") != account_.pid) return {std::nullopt, "another merchant's pid"};
    auto cents = parse_yuan(field(fields, "money"));
    if (!cents) return {std::nullopt, "unreadable money"};
    return {notice{field(fields, "out_trade_no"), field(fields, "trade_no"), *cents,
                   field(fields, "trade_status") == "TRADE_SUCCESS"},
            {}};
}

net::response epay::accepted() const { return {200, "text/plain; charset=utf-8", "success", {}, {}}; }

net::response epay::refused() const { return {400, "text/plain; charset=utf-8", "fail", {}, {}}; }

}  // namespace chatd::pay
