// Questions, answers and conversations for users (CONTRACT §5).
#include <boost/asio/use_awaitable.hpp>

#include "rpc/handlers.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

// `attachments:[upload id, …]` when given.
std::optional<std::vector<std::string>> attachment_ids(const params& p) {
    const auto* a = p.get("attachments");
    if (!a) return std::nullopt;
    if (!a->is_array()) fail("invalid_params", "'attachments' must be an array of upload ids");
    std::vector<std::string> ids;
    for (const auto& id : a->get_array()) {
        if (!id.is_string()) fail("invalid_params", "'attachments' must be an array of upload ids");
        ids.emplace_back(id.get_string());
    }
    return ids;
}

}  // namespace

awaitable<json::value> chat_send(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    chat::send_request r;
    r.content = p.str("content");
    r.conversation_id = p.opt_i64("conversation_id");
    r.model = p.opt_str("model");
    r.role_id = p.opt_i64("role_id");
    r.system_prompt = p.opt_str("system_prompt");
    r.parent_id = p.opt_i64("parent_id");
    r.attachments = attachment_ids(p).value_or(std::vector<std::string>{});
    co_return co_await s.chat.send(ctx.require_user(), std::move(r));
}

awaitable<json::value> chat_regenerate(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    co_return co_await s.chat.regenerate(ctx.require_user(), p.i64("message_id"), attachment_ids(p));
}

awaitable<json::value> chat_stop(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    co_await s.chat.stop(ctx.require_user(), p.i64("message_id"));
    co_return json::object{};
}

awaitable<json::value> conversations_list(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto page = page_of(p, 20, 100);
    auto query = p.opt_str("query").value_or("");
    auto uid = ctx.require_user().id;
    auto [rows, next] = co_await s.conversations.list(uid, query, page);
    json::array items;
    for (auto& c : rows) items.push_back(conversation_json(c));
    co_return page_json(std::move(items), next);
}

awaitable<json::value> conversations_get(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto id = p.i64("id");
    auto uid = ctx.require_user().id;
    co_return conversation_detail(co_await s.conversations.get(uid, id));
}

awaitable<json::value> conversations_rename(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto id = p.i64("id");
    auto title = trim(p.str("title"));
    if (title.empty() || utf8_length(title) > 100) fail("invalid_params", "title: 1 to 100 characters");
    auto uid = ctx.require_user().id;
    bool ok = co_await s.conversations.rename(uid, id, title, chat::unix_now());
    if (!ok) fail("not_found", "no such conversation");
    co_return json::object{};
}

awaitable<json::value> conversations_delete(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto id = p.i64("id");
    auto uid = ctx.require_user().id;
    bool ok = co_await s.conversations.remove(uid, id, chat::unix_now());
    if (!ok) fail("not_found", "no such conversation");
    co_return json::object{};
}

awaitable<json::value> conversations_pin(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto id = p.i64("id");
    auto pinned = p.opt_bool("pinned");
    if (!pinned) fail("invalid_params", "missing 'pinned'");
    auto uid = ctx.require_user().id;
    bool ok = co_await s.conversations.pin(uid, id, *pinned);
    if (!ok) fail("not_found", "no such conversation");
    co_return json::object{};
}

}  // namespace chatd::rpc
