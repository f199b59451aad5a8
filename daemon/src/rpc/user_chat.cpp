// Questions, answers and conversations for users (CONTRACT §5).
#include <boost/asio/use_awaitable.hpp>

#include "rpc/method_groups.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

json::object message_json(const store::message_row& m) {
    json::object o{{"id", m.id},
                   {"parent_id", null_or(m.parent_id)},
                   {"role", m.role},
                   {"content", m.content},
                   {"status", m.status},
                   {"created_at", m.created_at}};
    if (m.role == "assistant") {
        o["model"] = m.model;
        if (!m.error_reason.empty()) o["error"] = json::object{{"reason", m.error_reason}, {"message", m.error_message}};
    }
    return o;
}

json::object conversation_json(const store::conversation_row& c) {
    return json::object{{"id", c.id},         {"title", c.title},
                        {"pinned", c.pinned}, {"updated_at", c.updated_at},
                        {"created_at", c.created_at}, {"model", c.model},
                        {"role_id", null_or(c.role_id)}};
}

}  // namespace

json::object conversation_detail(store::store& st, const store::conversation_row& c) {
    auto o = conversation_json(c);
    o["current_leaf_id"] = null_or(c.current_leaf_id);
    o["system_prompt"] = null_or(c.system_prompt);
    json::array msgs;
    for (auto& m : st.conversation_messages(c.id)) msgs.push_back(message_json(m));
    o["messages"] = std::move(msgs);
    return o;
}

void add_user_chat_methods(dispatcher& d, services& s) {
    d.add({"chat.send", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               chat::send_request r;
               r.content = p.str("content");
               r.conversation_id = p.opt_i64("conversation_id");
               r.model = p.opt_str("model");
               r.role_id = p.opt_i64("role_id");
               r.system_prompt = p.opt_str("system_prompt");
               r.parent_id = p.opt_i64("parent_id");
               co_return co_await s.chat.send(ctx.require_user(), std::move(r));
           }});

    d.add({"chat.regenerate", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               co_return co_await s.chat.regenerate(ctx.require_user(), p.i64("message_id"));
           }});

    d.add({"chat.stop", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               co_await s.chat.stop(ctx.require_user(), p.i64("message_id"));
               co_return json::object{};
           }});

    d.add({"conversations.list", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto page = page_of(p, 20, 100);
               auto query = p.opt_str("query").value_or("");
               auto uid = ctx.require_user().id;
               std::optional<std::string> next;
               auto rows = co_await s.db.run([&](store::store& st) { return st.conversations(uid, query, page, next); });
               json::array items;
               for (auto& c : rows) items.push_back(conversation_json(c));
               co_return page_json(std::move(items), next);
           }});

    d.add({"conversations.get", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto uid = ctx.require_user().id;
               co_return co_await s.db.run([&](store::store& st) -> json::value {
                   auto c = st.conversation(id);
                   if (!c || c->user_id != uid || c->deleted_at) throw app_error("not_found", "no such conversation");
                   return conversation_detail(st, *c);
               });
           }});

    d.add({"conversations.rename", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto title = trim(p.str("title"));
               if (title.empty() || utf8_length(title) > 100) fail("invalid_params", "title: 1 to 100 characters");
               auto uid = ctx.require_user().id;
               bool ok = co_await s.db.run([&](store::store& st) { return st.rename_conversation(uid, id, title, chat::unix_now()); });
               if (!ok) fail("not_found", "no such conversation");
               co_return json::object{};
           }});

    d.add({"conversations.delete", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto uid = ctx.require_user().id;
               bool ok = co_await s.db.run([&](store::store& st) { return st.delete_conversation(uid, id, chat::unix_now()); });
               if (!ok) fail("not_found", "no such conversation");
               co_return json::object{};
           }});

    d.add({"conversations.pin", access::user, [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto pinned = p.opt_bool("pinned");
               if (!pinned) fail("invalid_params", "missing 'pinned'");
               auto uid = ctx.require_user().id;
               bool ok = co_await s.db.run([&](store::store& st) { return st.pin_conversation(uid, id, *pinned); });
               if (!ok) fail("not_found", "no such conversation");
               co_return json::object{};
           }});
}

}  // namespace chatd::rpc
