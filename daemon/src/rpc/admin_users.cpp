// Operator methods for users and admin accounts: listings, grants, bans.
#include <boost/asio/use_awaitable.hpp>

#include "rpc/method_groups.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

void add_admin_user_methods(dispatcher& d, services& s) {
    d.add({"admin.users.list", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               auto page = page_of(p, 50, 1000);
               auto query = trim(p.opt_str("query").value_or(""));
               std::optional<std::string> next;
               auto rows = co_await s.db.read([&](store::store& st) { return st.users(query, page, next); });
               json::array items;
               for (auto& u : rows) {
                   auto o = user_json(u);
                   o["banned"] = u.banned;
                   o["created_at"] = u.created_at;
                   items.push_back(std::move(o));
               }
               co_return page_json(std::move(items), next);
           }});

    d.add({"admin.users.get", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               auto id = params(v).i64("id");
               co_return co_await s.db.read([id](store::store& st) -> json::value {
                   auto u = st.user_by_id(id);
                   if (!u) throw app_error("not_found", "no such user");
                   auto o = user_json(*u);
                   o["banned"] = u->banned;
                   o["created_at"] = u->created_at;
                   o["invited_by"] = null_or(u->invited_by);
                   if (u->wechat_openid)
                       o["wechat"] = json::object{{"openid", *u->wechat_openid},
                                                  {"unionid", u->wechat_unionid ? json::value(*u->wechat_unionid) : nullptr}};
                   // The raw paid bucket too: expired credits stay until a redemption forfeits them.
                   o["paid_credits"] = u->balance.paid;
                   store::page_cursor page;
                   page.limit = 1000;
                   std::optional<std::string> next;
                   o["ledger"] = ledger_json(st.ledger(id, page, next));
                   return o;
               });
           }});

    d.add({"admin.users.grant", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
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
           },
           true});

    for (bool ban : {true, false}) {
        d.add({ban ? "admin.users.ban" : "admin.users.unban", access::admin,
               [&s, ban](const json::value& v, call_context& ctx) -> awaitable<json::value> {
                   auto id = params(v).i64("id");
                   auto was = co_await s.db.run([id, ban](store::store& st) {
                       auto u = st.user_by_id(id);
                       if (!u) throw app_error("not_found", "no such user");
                       st.set_banned(id, ban);
                       return u->banned;
                   });
                   ctx.audit_before = json::object{{"banned", was}};
                   ctx.audit_after = json::object{{"banned", ban}};
                   s.auth.forget_user(id);
                   co_return json::object{};
               },
               true});
    }

    d.add({"admin.admins.add", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = co_await s.auth.add_admin(p.str("username"), p.str("password"));
               ctx.audit_after = json::object{{"id", id}};
               co_return json::object{{"id", id}};
           },
           true});
}

}  // namespace chatd::rpc
