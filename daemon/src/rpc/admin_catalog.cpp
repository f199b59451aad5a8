// Operator methods for what users can pick: models, roles, preset questions.
#include <boost/asio/use_awaitable.hpp>

#include "rpc/handlers.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

json::object role_json(const store::role_row& r) {
    return json::object{{"id", r.id},         {"name", r.name},         {"description", r.description},
                        {"prompt", r.prompt}, {"sort", r.sort},         {"enabled", r.enabled}};
}

json::object model_json(const store::model_row& m) {
    return json::object{{"id", m.id},
                        {"name", m.name},
                        {"upstream_model", m.upstream_model},
                        {"cost", m.cost},
                        {"max_messages", m.max_messages},
                        {"max_context_chars", m.max_context_chars},
                        {"enabled", m.enabled},
                        {"sort", m.sort},
                        {"vision", m.vision},
                        {"reasoning", m.reasoning},
                        {"max_tokens", m.max_tokens},
                        {"stream_usage", m.stream_usage},
                        {"price_in", m.price_in},
                        {"price_out", m.price_out},
                        {"image_cost", m.image_cost}};
}

// A price per 1,000,000 tokens: a plain non-negative number (prices of 2026 run from 0.1 to 600).
double price_of(const params& p, std::string_view name, double current) {
    const auto* v = p.get(name);
    if (!v) return current;
    if (!v->is_number()) fail("invalid_params", std::string(name) + ": a number");
    auto x = v->to_number<double>();
    if (!(x >= 0 && x <= 1'000'000)) fail("invalid_params", std::string(name) + ": 0 to 1000000");
    return x;
}

json::object preset_json(const store::preset_row& p) {
    return json::object{{"id", p.id}, {"text", p.text}, {"sort", p.sort}};
}

awaitable<json::value> preset_json_of(services& s, std::int64_t id) {
    auto p = co_await s.catalog.preset(id);
    co_return p ? json::value(preset_json(*p)) : json::value(nullptr);
}

}  // namespace

awaitable<json::value> admin_models_list(services& s, const json::value&, call_context&) {
    json::array items;
    for (auto& m : s.chat.models()) items.push_back(model_json(m));
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_models_set(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto id = trim(p.str("id"));
    if (id.empty() || id.size() > 64) fail("invalid_params", "id: 1 to 64 characters");
    store::model_row m;
    if (auto old = s.chat.find_model(id)) {
        m = *old;
        ctx.audit_before = model_json(m);
    } else {
        m.id = id;
        m.name = id;
        m.upstream_model = id;
    }
    if (auto x = p.opt_str("name")) m.name = *x;
    if (auto x = p.opt_str("upstream_model")) m.upstream_model = *x;
    if (auto x = p.opt_i64("cost")) m.cost = static_cast<int>(*x);
    if (auto x = p.opt_i64("max_messages")) m.max_messages = static_cast<int>(*x);
    if (auto x = p.opt_i64("max_context_chars")) m.max_context_chars = static_cast<int>(*x);
    if (auto x = p.opt_bool("enabled")) m.enabled = *x;
    if (auto x = p.opt_i64("sort")) m.sort = static_cast<int>(*x);
    if (auto x = p.opt_bool("vision")) m.vision = *x;
    if (auto x = p.opt_bool("reasoning")) m.reasoning = *x;
    if (auto x = p.opt_i64("max_tokens")) {
        if (*x < 0 || *x > 1'000'000) fail("invalid_params", "max_tokens: 0 (not sent) to 1000000");
        m.max_tokens = static_cast<int>(*x);
    }
    if (auto x = p.opt_str("stream_usage")) {
        if (*x != "auto" && *x != "on" && *x != "off") fail("invalid_params", "stream_usage: auto, on or off");
        m.stream_usage = *x;
    }
    m.price_in = price_of(p, "price_in", m.price_in);
    m.price_out = price_of(p, "price_out", m.price_out);
    if (auto x = p.opt_i64("image_cost")) {
        if (*x < 0 || *x > 1000) fail("invalid_params", "image_cost: 0 to 1000");
        m.image_cost = static_cast<int>(*x);
    }
    if (m.cost < 0 || m.cost > 1000) fail("invalid_params", "cost: 0 to 1000");
    if (m.max_messages < 1 || m.max_messages > 1000) fail("invalid_params", "max_messages: 1 to 1000");
    if (m.max_context_chars < 100) fail("invalid_params", "max_context_chars: at least 100");
    if (m.upstream_model.empty()) fail("invalid_params", "upstream_model must not be empty");
    co_await s.catalog.save_model(m);
    ctx.audit_after = model_json(m);
    co_return model_json(m);
}

awaitable<json::value> admin_models_remove(services& s, const json::value& v, call_context& ctx) {
    auto id = params(v).str("id");
    if (auto old = s.chat.find_model(id)) ctx.audit_before = model_json(*old);
    co_await s.catalog.remove_model(id);
    co_return json::object{};
}

awaitable<json::value> admin_roles_list(services& s, const json::value&, call_context&) {
    json::array items;
    for (auto& r : co_await s.catalog.roles()) items.push_back(role_json(r));
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_roles_set(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    store::role_row r;
    r.id = p.opt_i64("id").value_or(0);
    if (r.id) {
        auto old = co_await s.catalog.role(r.id);
        if (!old) fail("not_found", "no such role");
        r = *old;
        ctx.audit_before = role_json(r);
    }
    if (auto x = p.opt_str("name")) r.name = trim(*x);
    if (auto x = p.opt_str("description")) r.description = *x;
    if (auto x = p.opt_str("prompt")) r.prompt = *x;
    if (auto x = p.opt_i64("sort")) r.sort = static_cast<int>(*x);
    if (auto x = p.opt_bool("enabled")) r.enabled = *x;
    if (r.name.empty() || utf8_length(r.name) > 40) fail("invalid_params", "name: 1 to 40 characters");
    if (trim(r.prompt).empty()) fail("invalid_params", "prompt must not be empty");
    r.id = co_await s.catalog.save_role(r);
    ctx.audit_after = role_json(r);
    co_return role_json(r);
}

awaitable<json::value> admin_roles_remove(services& s, const json::value& v, call_context& ctx) {
    auto id = params(v).i64("id");
    if (auto old = co_await s.catalog.role(id)) ctx.audit_before = role_json(*old);
    if (!co_await s.catalog.remove_role(id)) fail("not_found", "no such role");
    co_return json::object{};
}

awaitable<json::value> admin_presets_list(services& s, const json::value&, call_context&) {
    json::array items;
    for (auto& p : co_await s.catalog.presets()) items.push_back(preset_json(p));
    co_return json::object{{"items", std::move(items)}};
}

awaitable<json::value> admin_presets_set(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    store::preset_row row;
    row.id = p.opt_i64("id").value_or(0);
    row.text = trim(p.str("text"));
    row.sort = static_cast<int>(p.opt_i64("sort").value_or(0));
    if (row.text.empty() || utf8_length(row.text) > 500) fail("invalid_params", "text: 1 to 500 characters");
    if (row.id) ctx.audit_before = co_await preset_json_of(s, row.id);
    row.id = co_await s.catalog.save_preset(row);
    ctx.audit_after = preset_json(row);
    co_return ctx.audit_after;
}

awaitable<json::value> admin_presets_remove(services& s, const json::value& v, call_context& ctx) {
    auto id = params(v).i64("id");
    ctx.audit_before = co_await preset_json_of(s, id);
    if (!co_await s.catalog.remove_preset(id)) fail("not_found", "no such preset");
    co_return json::object{};
}

}  // namespace chatd::rpc
