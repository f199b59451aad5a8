// Buying plans online (CONTRACT §11): what is on sale, placing an order, watching it.
#include <boost/asio/use_awaitable.hpp>

#include "rpc/handlers.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

json::object order_view_json(const pay::order_view& v) {
    auto o = order_json(v.order);
    o.erase("user_id");
    if (v.balance) o["balance"] = chat::balance_to_json(*v.balance, chat::unix_now());
    return o;
}

}  // namespace

awaitable<json::value> pay_plans(services& s, const json::value&, call_context&) {
    json::array items, channels;
    for (const auto& p : co_await s.payments.plans(true)) items.push_back(plan_json(p));
    for (const auto& c : s.payments.channels()) channels.push_back(json::string(c));
    co_return json::object{{"items", std::move(items)}, {"channels", std::move(channels)}};
}

awaitable<json::value> pay_create(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    const auto& user = ctx.require_user();
    auto order = co_await s.payments.create(user.id, p.i64("plan_id"), p.str("channel"), ctx.peer);
    json::object out{{"order_no", order.order_no},
                     {"amount_cents", order.amount_cents},
                     {"expires_at", order.expires_at}};
    if (!order.qr_url.empty()) out["qr_url"] = order.qr_url;
    if (!order.pay_url.empty()) out["pay_url"] = order.pay_url;
    co_return out;
}

awaitable<json::value> pay_order(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    co_return order_view_json(co_await s.payments.order(ctx.require_user().id, p.str("order_no")));
}

awaitable<json::value> me_orders(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    store::order_filter filter;
    filter.user_id = ctx.require_user().id;
    auto page = co_await s.payments.orders(filter, page_of(p, 20, 100));
    json::array items;
    for (const auto& o : page.items) {
        auto j = order_json(o);
        j.erase("user_id");
        items.push_back(std::move(j));
    }
    co_return page_json(std::move(items), page.next);
}

}  // namespace chatd::rpc
