// Operator methods for the upstream key pool and the providers it knows (CONTRACT §7).
#include <boost/asio/use_awaitable.hpp>

#include "rpc/handlers.hpp"
#include "upstream/providers.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

json::object key_json(const upstream::pool_key& k, std::int64_t now) {
    json::array models;
    for (auto& m : k.models) models.emplace_back(m);
    auto status = k.shown_status(now);
    json::object o{{"id", k.id},
                   {"masked", mask_secret(k.secret)},
                   {"base_url", k.base_url},
                   {"provider", k.provider},
                   {"models", std::move(models)},
                   {"status", status},
                   {"requests", k.requests},
                   {"failures", k.failures},
                   {"tokens_in", k.tokens_in},
                   {"tokens_out", k.tokens_out},
                   {"last_used_at", null_or(k.last_used_at)},
                   {"last_error", null_or(k.last_error)},
                   {"note", null_or(k.note)},
                   {"created_at", k.created_at}};
    if (status == "invalid" || status == "cooling") o["reason"] = k.reason;
    if (status == "cooling") o["cooldown_until"] = null_or(k.cooldown_until);
    return o;
}

}  // namespace


awaitable<json::value> admin_providers_list(services&, const json::value&, call_context&) {
    json::array items;
    for (auto& p : upstream::providers())
        items.push_back(json::object{{"id", p.id},
                                     {"name", p.name},
                                     {"base_url", p.base_url},
                                     {"balance", !p.balance_path.empty()}});
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_keys_add(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto kv = p.get("keys");
    if (!kv || !kv->is_array() || kv->get_array().empty()) fail("invalid_params", "'keys' must be a non-empty array of strings");
    ops::new_keys keys;
    for (auto& e : kv->get_array()) {
        if (!e.is_string()) fail("invalid_params", "'keys' must be strings");
        auto k = trim(e.get_string());
        if (k.empty() || k.size() > 512 || k.find_first_of(" \t\r\n") != std::string::npos)
            fail("invalid_params", "a key must be one word of at most 512 characters");
        keys.secrets.push_back(k);
    }
    auto& base_url = keys.base_url = p.opt_str("base_url").value_or("");
    while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
    if (!base_url.empty() && !base_url.starts_with("http://") && !base_url.starts_with("https://"))
        fail("invalid_params", "base_url must start with http:// or https://");
    if (auto mv = p.get("models")) {
        if (!mv->is_array()) fail("invalid_params", "'models' must be an array of strings");
        for (auto& e : mv->get_array()) {
            if (!e.is_string()) fail("invalid_params", "'models' must be strings");
            keys.models.emplace_back(e.get_string());
        }
    }
    keys.provider = p.opt_str("provider").value_or("openai");
    if (!upstream::find_provider(keys.provider)) fail("invalid_params", "unknown provider '" + keys.provider + "'");
    keys.note = p.opt_str("note").value_or("");
    json::array out;
    for (auto id : co_await s.keys.add(std::move(keys), chat::unix_now())) out.emplace_back(id);
    ctx.audit_after = json::object{{"ids", out}};
    co_return json::object{{"ids", std::move(out)}};
}

awaitable<json::value> admin_keys_list(services& s, const json::value&, call_context&) {
    json::array items;
    auto now = chat::unix_now();
    for (auto& k : co_await s.keys.listing()) items.push_back(key_json(k, now));
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_keys_remove(services& s, const json::value& v, call_context& ctx) {
    auto id = params(v).i64("id");
    for (auto& k : s.pool.snapshot())
        if (k.id == id) ctx.audit_before = key_json(k, chat::unix_now());
    co_await s.keys.remove(id);
    co_return json::object{};
}

namespace {

awaitable<json::value> set_key_enabled(services& s, const json::value& v, call_context& ctx, bool enable) {
    auto id = params(v).i64("id");
    for (auto& k : s.pool.snapshot())
        if (k.id == id) ctx.audit_before = json::object{{"enabled", k.enabled}};
    co_await s.keys.set_enabled(id, enable);
    ctx.audit_after = json::object{{"enabled", enable}};
    co_return json::object{};
}

}  // namespace

awaitable<json::value> admin_keys_enable(services& s, const json::value& v, call_context& ctx) {
    co_return co_await set_key_enabled(s, v, ctx, true);
}

awaitable<json::value> admin_keys_disable(services& s, const json::value& v, call_context& ctx) {
    co_return co_await set_key_enabled(s, v, ctx, false);
}

awaitable<json::value> admin_keys_test(services& s, const json::value& v, call_context& ctx) {
    auto id = params(v).opt_i64("id");
    auto now = chat::unix_now();
    std::vector<std::int64_t> ids;
    for (auto& k : s.pool.snapshot())
        if (id ? k.id == *id : k.shown_status(now) == "invalid") ids.push_back(k.id);
    if (id && ids.empty()) fail("not_found", "no such key");
    json::array items;
    // The pool judges the answer as it judges a failing question's, so a key the provider refuses
    // (invalid, deactivated, out of quota) is evicted and a passing failure changes nothing.
    for (auto kid : ids) {
        auto r = co_await upstream::test_key(s.client, s.pool, kid, s.get_config()->upstream.base_url);
        json::object o{{"id", r.id}, {"ok", r.ok}, {"status", r.status}};
        if (!r.ok) o["reason"] = r.reason;
        items.push_back(std::move(o));
    }
    ctx.audit_after = json::object{{"items", items}};
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_keys_history(services& s, const json::value& v, call_context&) {
    params p(v);
    auto id = p.i64("id");
    auto limit = static_cast<int>(std::clamp<std::int64_t>(p.opt_i64("limit").value_or(100), 1, 1000));
    json::array items;
    for (auto& e : co_await s.keys.history(id, limit))
        items.push_back(json::object{{"at", e.at}, {"status", e.status}, {"reason", null_or(e.reason)}});
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_keys_balance(services& s, const json::value& v, call_context&) {
    auto id = params(v).opt_i64("id");
    json::array items;
    bool found = false;
    for (auto& k : s.pool.snapshot()) {
        if (id && k.id != *id) continue;
        found = true;
        auto b = co_await upstream::query_balance(s.client, k, s.get_config()->upstream.base_url);
        json::object o{{"id", b.id}, {"provider", k.provider}};
        if (b.balance) {
            o["balance"] = *b.balance;
            o["currency"] = b.currency;
        } else {
            o["error"] = b.error;
        }
        items.push_back(std::move(o));
    }
    if (id && !found) fail("not_found", "no such key");
    co_return json::object{{"items", std::move(items)}};
}

}  // namespace chatd::rpc
