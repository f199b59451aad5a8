// Operator methods for online payment (CONTRACT §11): plans on sale, orders and what the
// channels said about them.
#include <boost/asio/use_awaitable.hpp>

#include "rpc/handlers.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

awaitable<json::value> admin_plans_list(services& s, const json::value&, call_context&) {
    json::array items;
    for (const auto& p : co_await s.payments.plans(false)) items.push_back(plan_json(p));
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_plans_set(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    store::plan_row plan;
    plan.id = p.opt_i64("id").value_or(0);
    if (plan.id) {
        auto old = co_await s.payments.plan(plan.id);
        if (!old) fail("not_found", "no such plan");
        plan = *old;
        ctx.audit_before = plan_json(plan);
    } else {
        for (auto name : {"name", "price_cents", "questions", "days"})
            if (!p.get(name)) fail("invalid_params", std::string("a new plan needs '") + name + "'");
    }
    if (auto x = p.opt_str("name")) plan.name = *x;
    if (auto x = p.opt_i64("price_cents")) plan.price_cents = *x;
    if (auto x = p.opt_i64("questions")) plan.questions = *x;
    if (auto x = p.opt_i64("days")) plan.days = *x;
    if (auto x = p.opt_bool("enabled")) plan.enabled = *x;
    if (auto x = p.opt_i64("sort")) plan.sort = *x;
    plan = co_await s.payments.set_plan(plan);
    ctx.audit_after = plan_json(plan);
    co_return plan_json(plan);
}

awaitable<json::value> admin_plans_remove(services& s, const json::value& v, call_context& ctx) {
    auto removed = co_await s.payments.remove_plan(params(v).i64("id"));
    if (!removed) fail("not_found", "no such plan");
    ctx.audit_before = plan_json(*removed);
    co_return json::object{};
}

awaitable<json::value> admin_orders_list(services& s, const json::value& v, call_context&) {
    params p(v);
    store::order_filter filter;
    filter.status = p.opt_str("status").value_or("");
    if (!filter.status.empty() && filter.status != "pending" && filter.status != "paid" && filter.status != "closed")
        fail("invalid_params", "status: pending, paid or closed");
    filter.user_id = p.opt_i64("user_id").value_or(0);
    filter.query = p.opt_str("query").value_or("");
    auto page = co_await s.payments.orders(filter, page_of(p, 50, 500));
    json::array items;
    for (const auto& o : page.items) items.push_back(order_json(o));
    co_return page_json(std::move(items), page.next);
}

awaitable<json::value> admin_orders_get(services& s, const json::value& v, call_context&) {
    auto d = co_await s.payments.detail(params(v).str("order_no"));
    json::array events;
    for (const auto& e : d.events)
        events.push_back(json::object{{"at", e.at},
                                      {"source", e.source},
                                      {"client_ip", e.client_ip},
                                      {"verdict", e.verdict},
                                      {"detail", e.detail}});
    auto out = order_json(d.order);
    out["events"] = std::move(events);
    co_return out;
}

awaitable<json::value> admin_orders_sync(services& s, const json::value& v, call_context& ctx) {
    auto no = params(v).str("order_no");
    auto before = co_await s.payments.detail(no);
    ctx.audit_before = json::object{{"status", before.order.status}};
    auto after = co_await s.payments.sync(no, "admin");
    ctx.audit_after = json::object{{"status", after.order.status}};
    co_return order_json(after.order);
}

}  // namespace chatd::rpc
