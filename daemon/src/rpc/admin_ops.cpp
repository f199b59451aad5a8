// Operator methods for running the site: status, settings, every user's logs, audit, stats, backup.
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>

#include "rpc/handlers.hpp"
#include "util/text.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

awaitable<json::value> system_list_methods(services& s, const json::value&, call_context& ctx) {
    json::array names;
    for (auto& n : s.methods->names(ctx.via_socket)) names.emplace_back(n);
    co_return json::object{{"methods", std::move(names)}};
}

awaitable<json::value> admin_status(services& s, const json::value&, call_context&) {
    auto counts = co_await s.site_admin.counts();
    auto checked = co_await s.ledger.consistency_check(counts.users > 20'000, chat::unix_now());
    auto k = s.pool.count(chat::unix_now());
    auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - s.started);
    co_return json::object{{"version", CHATD_VERSION},
                           {"uptime_s", uptime.count()},
                           {"store", s.store_backend},
                           {"instance", s.instance},
                           {"users", counts.users},
                           {"admins", counts.admins},
                           {"conversations", counts.conversations},
                           {"search_backlog", counts.search_backlog},
                           {"in_flight", s.chat.in_flight()},
                           {"keys", json::object{{"active", k.active}, {"cooling", k.cooling},
                                                 {"invalid", k.invalid}, {"disabled", k.disabled}}},
                           {"ledger_consistent", checked.at ? json::value(checked.consistent) : nullptr},
                           {"ledger_checked_at", null_or(checked.at ? std::optional(checked.at) : std::nullopt)}};
}

awaitable<json::value> admin_settings_get(services& s, const json::value& v, call_context&) {
    params p(v);
    json::object out;
    if (auto key = p.opt_str("key")) {
        if (!s.site.known(*key)) fail("invalid_params", "unknown setting '" + *key + "'");
        out[*key] = s.site.get(*key);
    } else {
        for (auto& [k, val] : s.site.all()) out[k] = val;
    }
    co_return out;
}

namespace {

// The default model must be one users can pick, or nothing (the first enabled model then).
// Checked here so the console and chatctl get the same refusal.
void require_offered_model(services& s, const std::string& id) {
    if (id.empty()) return;
    std::string offered;
    for (auto& m : s.chat.models())
        if (m.enabled) offered += (offered.empty() ? "" : ", ") + m.id;
    auto model = s.chat.find_model(id);
    if (model && model->enabled) return;
    fail("invalid_params", "chat.default_model: " +
                               std::string(model ? "model '" + id + "' is disabled" : "no model '" + id + "'") +
                               "; enabled models: " + (offered.empty() ? "none" : offered));
}

}  // namespace

awaitable<json::value> admin_settings_set(services& s, const json::value& v, call_context& ctx) {
    params p(v);
    auto key = p.str("key");
    auto raw = p.get("value");
    if (!raw) fail("invalid_params", "missing 'value'");
    std::string value;
    if (raw->is_string()) value = std::string(raw->get_string());
    else if (raw->is_bool()) value = raw->get_bool() ? "on" : "off";
    else if (raw->is_number()) value = json::serialize(*raw);
    else fail("invalid_params", "'value' must be a string, number or boolean");
    if (key == "chat.default_model") require_offered_model(s, trim(value));
    auto [before, normalised] = co_await s.site_admin.set_setting(key, value);
    ctx.audit_before = json::object{{key, before}};
    ctx.audit_after = json::object{{key, normalised}};
    if (key == "content.sensitive_words") s.chat.set_sensitive_words(normalised);
    co_return json::object{};
}

awaitable<json::value> admin_conversations_list(services& s, const json::value& v, call_context&) {
    params p(v);
    auto page = page_of(p, 50, 500);
    auto query = p.opt_str("query").value_or("");
    auto user = p.opt_i64("user_id");
    auto [rows, next] = co_await s.conversations.list_any(user, query, page);
    json::array items;
    for (auto& c : rows) {
        json::object o{{"id", c.id},           {"title", c.title},
                       {"user_id", c.user_id}, {"user_name", c.username},
                       {"model", c.model},     {"updated_at", c.updated_at},
                       {"created_at", c.created_at}, {"deleted_at", null_or(c.deleted_at)}};
        put_source(o, c);
        items.push_back(std::move(o));
    }
    co_return page_json(std::move(items), next);
}

awaitable<json::value> admin_audit_list(services& s, const json::value& v, call_context&) {
    params p(v);
    auto page = page_of(p, 50, 1000);
    auto [rows, next] = co_await s.site_admin.audit_log(page);
    json::array items;
    auto parsed = [](const std::string& text) -> json::value {
        if (text.empty()) return nullptr;
        boost::system::error_code ec;
        auto v = json::parse(text, ec);
        return ec ? json::value(text) : v;
    };
    for (auto& a : rows)
        items.push_back(json::object{{"at", a.at},
                                     {"actor", a.actor},
                                     {"via", a.via},
                                     {"address", a.address.empty() ? json::value(nullptr) : json::value(a.address)},
                                     {"method", a.method},
                                     {"params", parsed(a.params)},
                                     {"before", parsed(a.before)},
                                     {"after", parsed(a.after)}});
    co_return page_json(std::move(items), next);
}

namespace {

int days_of(const json::value& v) {
    return static_cast<int>(std::clamp<std::int64_t>(params(v).opt_i64("days").value_or(30), 1, 366));
}

// Usage in money (CONTRACT §10): cost at the models' prices, revenue at the price of a credit.
void put_usage(json::object& o, const store::usage_totals& u, double credit_price) {
    o["prompt_tokens"] = u.prompt_tokens;
    o["completion_tokens"] = u.completion_tokens;
    o["reasoning_tokens"] = u.reasoning_tokens;
    o["upstream_cost"] = u.upstream_cost;
    o["credits"] = u.credits;
    o["revenue"] = static_cast<double>(u.credits) * credit_price;
}

double credit_price(services& s) {
    try {
        return std::stod(s.site.get("billing.credit_price"));
    } catch (const std::exception&) {
        return 0;
    }
}

}  // namespace

awaitable<json::value> admin_stats(services& s, const json::value& v, call_context&) {
    auto price = credit_price(s);
    json::array out;
    for (auto& d : co_await s.site_admin.stats(days_of(v), chat::unix_now())) {
        json::object o{{"date", d.date}, {"questions", d.questions}, {"new_users", d.new_users},
                       {"active_users", d.active_users}, {"redemptions", d.redemptions},
                       {"credits_sold", d.credits_sold}, {"orders", d.orders}, {"paid_cents", d.paid_cents},
                       {"api_questions", d.api_questions},
                       {"first_token_p50_ms", null_or(d.first_token_p50_ms)},
                       {"first_token_p95_ms", null_or(d.first_token_p95_ms)}};
        put_usage(o, d.usage, price);
        out.push_back(std::move(o));
    }
    co_return json::object{{"days", std::move(out)}, {"currency", s.site.get("billing.currency")}};
}

awaitable<json::value> admin_stats_models(services& s, const json::value& v, call_context&) {
    auto price = credit_price(s);
    json::array items;
    for (auto& m : co_await s.site_admin.usage_by_model(days_of(v), chat::unix_now())) {
        json::object o{{"model", m.model}, {"questions", m.usage.questions}};
        put_usage(o, m.usage, price);
        items.push_back(std::move(o));
    }
    co_return json::object{{"items", std::move(items)}, {"currency", s.site.get("billing.currency")}};
}

awaitable<json::value> admin_conversations_get(services& s, const json::value& v, call_context&) {
    auto id = params(v).i64("id");
    auto tree = co_await s.conversations.get_any(id);
    auto o = conversation_detail(tree);
    auto& c = tree.conversation;
    o["user_id"] = c.user_id;
    o["user_name"] = c.username;
    o["deleted_at"] = null_or(c.deleted_at);
    co_return o;
}

awaitable<json::value> admin_backup(services& s, const json::value& v, call_context& ctx) {
    auto path = params(v).str("path");
    if (!std::filesystem::path(path).is_absolute()) fail("invalid_params", "path must be absolute");
    auto bytes = co_await s.site_admin.backup(path);
    ctx.audit_after = json::object{{"bytes", bytes}};
    co_return json::object{{"bytes", bytes}};
}

}  // namespace chatd::rpc
