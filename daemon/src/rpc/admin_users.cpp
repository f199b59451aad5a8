// Operator methods for users and admin accounts: listings, grants, bans.
#include <boost/asio/use_awaitable.hpp>

#include "rpc/handlers.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

awaitable<json::value> admin_users_list(services& s, const json::value& v, call_context&) {
    params p(v);
    auto page = page_of(p, 50, 1000);
    auto query = trim(p.opt_str("query").value_or(""));
    auto [rows, next] = co_await s.accounts.list(query, page);
    json::array items;
    for (auto& u : rows) {
        auto o = user_json(u);
        o["banned"] = u.banned;
        o["created_at"] = u.created_at;
        items.push_back(std::move(o));
    }
    co_return page_json(std::move(items), next);
}

awaitable<json::value> admin_users_get(services& s, const json::value& v, call_context&) {
    auto id = params(v).i64("id");
    auto u = co_await s.accounts.find(id);
    if (!u) fail("not_found", "no such user");
    auto o = user_json(*u);
    o["banned"] = u->banned;
    o["created_at"] = u->created_at;
    o["invited_by"] = null_or(u->invited_by);
    if (u->wechat_openid)
        o["wechat"] = json::object{{"openid", *u->wechat_openid},
                                   {"unionid", u->wechat_unionid ? json::value(*u->wechat_unionid) : nullptr}};
    // The raw paid bucket too: expired credits stay until a redemption forfeits them.
    o["paid_credits"] = u->balance.paid;
    o["api_enabled"] = u->api_enabled;
    json::array keys;
    for (const auto& k : co_await s.api_keys.list(id)) keys.push_back(api_key_json(k));
    o["api_keys"] = std::move(keys);
    store::page_cursor page;
    page.limit = 1000;
    o["ledger"] = ledger_json((co_await s.ledger.rows(id, page)).items);
    co_return o;
}

awaitable<json::value> admin_users_grant(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto id = p.i64("id");
    auto questions = p.i64("questions");
    auto days = p.opt_i64("days");
    if (questions == 0 || questions < -1'000'000 || questions > 1'000'000)
        fail("invalid_params", "questions: a non-zero number within ±1000000");
    if (days && (*days < 1 || *days > 3650)) fail("invalid_params", "days: 1 to 3650");
    auto bucket = p.opt_str("bucket").value_or(days ? "paid" : "trial");
    if (bucket != "paid" && bucket != "trial") fail("invalid_params", "bucket: paid or trial");
    auto [before, bal] = co_await s.cards.grant(id, questions, days, bucket, ctx.actor(), chat::unix_now());
    auto now = chat::unix_now();
    ctx.audit_before = chat::balance_to_json(before, now);
    ctx.audit_after = chat::balance_to_json(bal, now);
    co_return json::object{{"balance", chat::balance_to_json(bal, now)}};
}

namespace {

awaitable<json::value> set_banned(services& s, const json::value& v, call_context& ctx, bool ban) {
    auto id = params(v).i64("id");
    auto was = co_await s.accounts.set_banned(id, ban);
    s.api_keys.forget_user(id);
    ctx.audit_before = json::object{{"banned", was}};
    ctx.audit_after = json::object{{"banned", ban}};
    co_return json::object{};
}

}  // namespace

awaitable<json::value> admin_users_ban(services& s, const json::value& v, call_context& ctx) {
    co_return co_await set_banned(s, v, ctx, true);
}

awaitable<json::value> admin_users_unban(services& s, const json::value& v, call_context& ctx) {
    co_return co_await set_banned(s, v, ctx, false);
}

// The user's switch for the OpenAI-compatible API; their keys stay, unusable while it is off.
awaitable<json::value> admin_users_set_api(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto id = p.i64("id");
    auto enabled = p.opt_bool("enabled");
    if (!enabled) fail("invalid_params", "enabled: true or false");
    auto u = co_await s.accounts.find(id);
    if (!u) fail("not_found", "no such user");
    co_await s.api_keys.set_enabled(id, *enabled);
    ctx.audit_before = json::object{{"api_enabled", u->api_enabled}};
    ctx.audit_after = json::object{{"api_enabled", *enabled}};
    co_return json::object{};
}

awaitable<json::value> admin_admins_add(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto id = co_await s.auth.add_admin(p.str("username"), p.str("password"));
    ctx.audit_after = json::object{{"id", id}};
    co_return json::object{{"id", id}};
}

}  // namespace chatd::rpc
