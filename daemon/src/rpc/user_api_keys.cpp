// A user's own keys for the OpenAI-compatible API (CONTRACT §13): listed masked, created with a
// name and shown whole once, revoked.
#include "rpc/handlers.hpp"

namespace chatd::rpc {

using boost::asio::awaitable;

awaitable<json::value> me_apikeys_list(services& s, const json::value&, call_context& ctx) {
    json::array items;
    for (const auto& k : co_await s.api_keys.list(ctx.require_user().id)) items.push_back(api_key_json(k));
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> me_apikeys_create(services& s, const json::value& v, call_context& ctx) {
    auto name = params(v).str("name");
    // Read fresh: the operator's switch may have changed since the session was cached.
    auto user = co_await s.accounts.user(ctx.require_user().id);
    if (!user) fail("unauthorized", "请先登录 (please log in)");
    auto made = co_await s.api_keys.create(*user, std::move(name));
    co_return json::object{{"id", made.id}, {"key", made.key}};
}

awaitable<json::value> me_apikeys_revoke(services& s, const json::value& v, call_context& ctx) {
    co_await s.api_keys.revoke(ctx.require_user().id, params(v).i64("id"));
    co_return json::object{};
}

}  // namespace chatd::rpc
