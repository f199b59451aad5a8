// Operator methods (CONTRACT §7): the admin socket, and admins' web sessions.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <mutex>
#include <spdlog/spdlog.h>

#include "billing/cards.hpp"
#include "rpc/services.hpp"
#include "store/text_search.hpp"
#include "upstream/providers.hpp"
#include "util/random.hpp"
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
                        {"sort", m.sort}};
}


}  // namespace

std::vector<upstream::pool_key> pool_keys_of(const std::vector<store::key_row>& rows) {
    std::vector<upstream::pool_key> out;
    for (auto& r : rows) out.push_back(chat::pool_key_of(r));
    return out;
}

// Whether every balance equals the sum of its ledger rows. On a big site that takes seconds:
// then the last result is shown (none before the first check ends) and refreshed in the
// background when it is older than ten minutes; while the check is cheap it runs on every call.
class ledger_check : public std::enable_shared_from_this<ledger_check> {
public:
    struct outcome {
        bool consistent = true;
        std::int64_t at = 0;  // 0: not checked yet
    };

    // `big`: a site where a check is expected to be slow even before one has run.
    awaitable<outcome> result(services& s, bool big) {
        bool now_please = false, in_background = false;
        outcome last;
        {
            std::lock_guard lock(mu_);
            last = last_;
            bool stale = chat::unix_now() - last_.at > 600;
            now_please = !running_ && (last_.at == 0 ? !big : took_ < std::chrono::milliseconds(100));
            in_background = !now_please && stale && !running_;
            if (in_background) running_ = true;
        }
        if (now_please) {
            {
                std::lock_guard lock(mu_);
                running_ = true;
            }
            co_return co_await run(s);
        }
        if (in_background)
            s.tasks.spawn(co_await asio::this_coro::executor, [this, &s, keep = shared_from_this()]() -> awaitable<void> {
                co_await run(s);
            }, "ledger check");
        co_return last;
    }

private:
    awaitable<outcome> run(services& s) {
        auto started = std::chrono::steady_clock::now();
        std::vector<store::id_t> mismatches;
        try {
            mismatches = co_await s.db.read([](store::store& st) { return st.ledger_mismatches(); });
        } catch (...) {
            std::lock_guard lock(mu_);
            running_ = false;
            throw;
        }
        std::lock_guard lock(mu_);
        took_ = std::chrono::steady_clock::now() - started;
        last_ = {mismatches.empty(), chat::unix_now()};
        running_ = false;
        if (!mismatches.empty()) spdlog::error("ledger check: {} user(s) whose balance differs from their ledger", mismatches.size());
        co_return last_;
    }
    std::mutex mu_;
    outcome last_;
    std::chrono::steady_clock::duration took_{};
    bool running_ = false;
};

static awaitable<json::value> preset_json_of(services& s, std::int64_t id) {
    auto rows = co_await s.db.run([](store::store& st) { return st.presets(); });
    for (auto& p : rows)
        if (p.id == id) co_return json::object{{"id", p.id}, {"text", p.text}, {"sort", p.sort}};
    co_return nullptr;
}

void add_admin_methods(dispatcher& d, services& s) {
    d.add({"system.list_methods", access::admin, [&d](const json::value&, call_context& ctx) -> awaitable<json::value> {
               json::array names;
               for (auto& n : d.names(ctx.via_socket)) names.emplace_back(n);
               co_return json::object{{"methods", std::move(names)}};
           }});

    auto ledger = std::make_shared<ledger_check>();
    d.add({"admin.status", access::admin, [&s, ledger](const json::value&, call_context&) -> awaitable<json::value> {
               auto counts = co_await s.db.read([](store::store& st) { return st.counts(); });
               auto checked = co_await ledger->result(s, counts.users > 20'000);
               auto k = s.pool.count(chat::unix_now());
               auto uptime = std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - s.started);
               co_return json::object{{"version", CHATD_VERSION},
                                      {"uptime_s", uptime.count()},
                                      {"users", counts.users},
                                      {"conversations", counts.conversations},
                                      {"search_backlog", counts.search_backlog},
                                      {"in_flight", s.chat.in_flight()},
                                      {"keys", json::object{{"active", k.active}, {"cooling", k.cooling},
                                                            {"invalid", k.invalid}, {"disabled", k.disabled}}},
                                      {"ledger_consistent", checked.at ? json::value(checked.consistent) : nullptr},
                                      {"ledger_checked_at", null_or(checked.at ? std::optional(checked.at) : std::nullopt)}};
           }});

    d.add({"admin.keys.add", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto kv = p.get("keys");
               if (!kv || !kv->is_array() || kv->get_array().empty()) fail("invalid_params", "'keys' must be a non-empty array of strings");
               std::vector<std::string> secrets;
               for (auto& e : kv->get_array()) {
                   if (!e.is_string()) fail("invalid_params", "'keys' must be strings");
                   auto k = trim(e.get_string());
                   if (k.empty() || k.size() > 512 || k.find_first_of(" \t\r\n") != std::string::npos)
                       fail("invalid_params", "a key must be one word of at most 512 characters");
                   secrets.push_back(k);
               }
               auto base_url = p.opt_str("base_url").value_or("");
               while (!base_url.empty() && base_url.back() == '/') base_url.pop_back();
               if (!base_url.empty() && !base_url.starts_with("http://") && !base_url.starts_with("https://"))
                   fail("invalid_params", "base_url must start with http:// or https://");
               std::vector<std::string> models;
               if (auto mv = p.get("models")) {
                   if (!mv->is_array()) fail("invalid_params", "'models' must be an array of strings");
                   for (auto& e : mv->get_array()) {
                       if (!e.is_string()) fail("invalid_params", "'models' must be strings");
                       models.emplace_back(e.get_string());
                   }
               }
               auto provider = p.opt_str("provider").value_or("openai");
               if (!upstream::find_provider(provider)) fail("invalid_params", "unknown provider '" + provider + "'");
               auto note = p.opt_str("note").value_or("");
               auto ids = co_await s.db.run([&](store::store& st) {
                   return st.add_keys(secrets, base_url, models, note, provider, chat::unix_now());
               });
               auto rows = co_await s.db.run([](store::store& st) { return st.keys(); });
               json::array out;
               for (auto id : ids) {
                   out.emplace_back(id);
                   for (auto& r : rows)
                       if (r.id == id) s.pool.add(chat::pool_key_of(r));
               }
               ctx.audit_after = json::object{{"ids", out}};
               co_return json::object{{"ids", std::move(out)}};
           },
           true});

    d.add({"admin.keys.list", access::admin, [&s](const json::value&, call_context&) -> awaitable<json::value> {
               json::array items;
               auto now = chat::unix_now();
               for (auto& k : s.pool.snapshot()) items.push_back(key_json(k, now));
               co_return json::object{{"items", std::move(items)}};
           }});

    d.add({"admin.keys.remove", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               auto id = params(v).i64("id");
               for (auto& k : s.pool.snapshot())
                   if (k.id == id) ctx.audit_before = key_json(k, chat::unix_now());
               bool ok = co_await s.db.run([id](store::store& st) { return st.remove_key(id); });
               if (!ok) fail("not_found", "no such key");
               s.pool.remove(id);
               co_return json::object{};
           },
           true});

    for (bool enable : {true, false}) {
        d.add({enable ? "admin.keys.enable" : "admin.keys.disable", access::admin,
               [&s, enable](const json::value& v, call_context& ctx) -> awaitable<json::value> {
                   auto id = params(v).i64("id");
                   for (auto& k : s.pool.snapshot())
                       if (k.id == id) ctx.audit_before = json::object{{"enabled", k.enabled}};
                   bool ok = co_await s.db.run([id, enable](store::store& st) { return st.set_key_enabled(id, enable); });
                   if (!ok) fail("not_found", "no such key");
                   ctx.audit_after = json::object{{"enabled", enable}};
                   s.pool.set_enabled(id, enable);
                   co_return json::object{};
               },
               true});
    }

    d.add({"admin.keys.test", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               auto id = params(v).opt_i64("id");
               auto now = chat::unix_now();
               std::vector<std::int64_t> ids;
               for (auto& k : s.pool.snapshot())
                   if (id ? k.id == *id : k.shown_status(now) == "invalid") ids.push_back(k.id);
               if (id && ids.empty()) fail("not_found", "no such key");
               json::array items;
               for (auto kid : ids) {
                   auto r = co_await upstream::test_key(s.client, s.pool, kid, s.get_config()->upstream.base_url);
                   json::object o{{"id", r.id}, {"ok", r.ok}, {"status", r.status}};
                   if (!r.ok) o["reason"] = r.reason;
                   items.push_back(std::move(o));
               }
               ctx.audit_after = json::object{{"items", items}};
               co_return json::object{{"items", std::move(items)}};
           },
           true});

    d.add({"admin.keys.history", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               auto id = p.i64("id");
               auto limit = static_cast<int>(std::clamp<std::int64_t>(p.opt_i64("limit").value_or(100), 1, 1000));
               auto rows = co_await s.db.read([id, limit](store::store& st) { return st.key_events(id, limit); });
               json::array items;
               for (auto& e : rows)
                   items.push_back(json::object{{"at", e.at}, {"status", e.status}, {"reason", null_or(e.reason)}});
               co_return json::object{{"items", std::move(items)}};
           }});

    d.add({"admin.keys.balance", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
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
           }});

    d.add({"admin.models.list", access::admin, [&s](const json::value&, call_context&) -> awaitable<json::value> {
               json::array items;
               for (auto& m : s.chat.models()) items.push_back(model_json(m));
               co_return json::object{{"items", std::move(items)}};
           }});

    d.add({"admin.models.set", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
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
               if (m.cost < 0 || m.cost > 1000) fail("invalid_params", "cost: 0 to 1000");
               if (m.max_messages < 1 || m.max_messages > 1000) fail("invalid_params", "max_messages: 1 to 1000");
               if (m.max_context_chars < 100) fail("invalid_params", "max_context_chars: at least 100");
               if (m.upstream_model.empty()) fail("invalid_params", "upstream_model must not be empty");
               auto all = co_await s.db.run([m](store::store& st) {
                   st.upsert_model(m);
                   return st.models();
               });
               s.chat.set_models(std::move(all));
               ctx.audit_after = model_json(m);
               co_return model_json(m);
           },
           true});

    d.add({"admin.models.remove", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               auto id = params(v).str("id");
               if (auto old = s.chat.find_model(id)) ctx.audit_before = model_json(*old);
               auto all = co_await s.db.run([id](store::store& st) {
                   if (!st.remove_model(id)) throw app_error("not_found", "no such model");
                   return st.models();
               });
               s.chat.set_models(std::move(all));
               co_return json::object{};
           },
           true});

    d.add({"admin.roles.list", access::admin, [&s](const json::value&, call_context&) -> awaitable<json::value> {
               auto rows = co_await s.db.run([](store::store& st) { return st.roles(); });
               json::array items;
               for (auto& r : rows) items.push_back(role_json(r));
               co_return json::object{{"items", std::move(items)}};
           }});

    d.add({"admin.roles.set", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               store::role_row r;
               r.id = p.opt_i64("id").value_or(0);
               if (r.id) {
                   auto old = co_await s.db.run([id = r.id](store::store& st) { return st.role(id); });
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
               r.id = co_await s.db.run([r](store::store& st) { return st.upsert_role(r); });
               ctx.audit_after = role_json(r);
               co_return role_json(r);
           },
           true});

    d.add({"admin.roles.remove", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               auto id = params(v).i64("id");
               if (auto old = co_await s.db.run([id](store::store& st) { return st.role(id); })) ctx.audit_before = role_json(*old);
               if (!co_await s.db.run([id](store::store& st) { return st.remove_role(id); })) fail("not_found", "no such role");
               co_return json::object{};
           },
           true});

    d.add({"admin.presets.list", access::admin, [&s](const json::value&, call_context&) -> awaitable<json::value> {
               auto rows = co_await s.db.run([](store::store& st) { return st.presets(); });
               json::array items;
               for (auto& p : rows) items.push_back(json::object{{"id", p.id}, {"text", p.text}, {"sort", p.sort}});
               co_return json::object{{"items", std::move(items)}};
           }});

    d.add({"admin.presets.set", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               store::preset_row row;
               row.id = p.opt_i64("id").value_or(0);
               row.text = trim(p.str("text"));
               row.sort = static_cast<int>(p.opt_i64("sort").value_or(0));
               if (row.text.empty() || utf8_length(row.text) > 500) fail("invalid_params", "text: 1 to 500 characters");
               if (row.id) ctx.audit_before = co_await preset_json_of(s, row.id);
               row.id = co_await s.db.run([row](store::store& st) { return st.upsert_preset(row); });
               ctx.audit_after = json::object{{"id", row.id}, {"text", row.text}, {"sort", row.sort}};
               co_return ctx.audit_after;
           },
           true});

    d.add({"admin.presets.remove", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               auto id = params(v).i64("id");
               ctx.audit_before = co_await preset_json_of(s, id);
               if (!co_await s.db.run([id](store::store& st) { return st.remove_preset(id); })) fail("not_found", "no such preset");
               co_return json::object{};
           },
           true});

    d.add({"admin.cards.generate", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto count = p.i64("count"), questions = p.i64("questions"), days = p.i64("days");
               if (count < 1 || count > 100'000) fail("invalid_params", "count: 1 to 100000");
               if (questions < 1 || questions > 1'000'000) fail("invalid_params", "questions: 1 to 1000000");
               if (days < 1 || days > 3650) fail("invalid_params", "days: 1 to 3650");
               auto now = chat::unix_now();
               auto redeem_before = p.opt_i64("redeem_before");
               if (redeem_before && *redeem_before <= now) fail("invalid_params", "redeem_before is in the past");
               auto batch = trim(p.opt_str("batch").value_or(""));
               if (batch.empty()) batch = "batch-" + std::to_string(now) + "-" + random_hex(3);
               if (utf8_length(batch) > 64 || batch.find_first_of("\r\n,\"") != std::string::npos)
                   fail("invalid_params", "batch: up to 64 characters, no commas, quotes or line breaks");
               auto codes = co_await s.db.run([=](store::store& st) {
                   return st.generate_cards(batch, count, questions, days, redeem_before, now);
               });
               json::array cards;
               cards.reserve(codes.size());
               for (auto& c : codes)
                   cards.push_back(json::object{{"code", billing::format_card_code(c)}, {"questions", questions}, {"days", days}});
               // The codes themselves stay out of the audit log: they are as good as money.
               ctx.audit_after = json::object{{"batch", batch}, {"count", cards.size()}};
               co_return json::object{{"batch", batch}, {"redeem_before", null_or(redeem_before)}, {"cards", std::move(cards)}};
           },
           true});

    d.add({"admin.cards.list", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               store::page_cursor page;
               if (auto after = p.opt_str("cursor")) page.after = billing::normalise_card_code(*after).value_or(*after);
               page.limit = static_cast<int>(std::clamp<std::int64_t>(p.opt_i64("limit").value_or(100), 1, 100000));
               auto batch = p.opt_str("batch").value_or("");
               auto status = p.opt_str("status").value_or("");
               std::optional<std::string> next;
               auto rows = co_await s.db.read([&](store::store& st) {
                   return st.cards(batch, status, page, chat::unix_now(), next);
               });
               json::array items;
               for (auto& c : rows)
                   items.push_back(json::object{{"code", billing::format_card_code(c.code)}, {"batch", c.batch},
                                                {"questions", c.questions}, {"days", c.days},
                                                {"redeem_before", null_or(c.redeem_before)}, {"status", c.status},
                                                {"redeemed_by", null_or(c.redeemed_by)},
                                                {"redeemed_at", null_or(c.redeemed_at)}, {"created_at", c.created_at}});
               co_return json::object{{"items", std::move(items)},
                                      {"next_cursor", next ? json::value(billing::format_card_code(*next)) : json::value(nullptr)}};
           }});

    d.add({"admin.cards.batches", access::admin, [&s](const json::value&, call_context&) -> awaitable<json::value> {
               auto rows = co_await s.db.read([](store::store& st) { return st.card_batches(chat::unix_now()); });
               json::array items;
               for (auto& b : rows)
                   items.push_back(json::object{{"batch", b.name}, {"count", b.count}, {"unused", b.unused},
                                                {"used", b.used}, {"revoked", b.revoked}, {"expired", b.expired},
                                                {"questions", b.questions}, {"days", b.days},
                                                {"redeem_before", null_or(b.redeem_before)}, {"created_at", b.created_at}});
               co_return json::object{{"items", std::move(items)}};
           }});

    d.add({"admin.cards.revoke", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               std::vector<std::string> codes;
               if (auto cv = p.get("codes")) {
                   if (!cv->is_array()) fail("invalid_params", "'codes' must be an array of strings");
                   for (auto& c : cv->get_array()) {
                       auto code = c.is_string() ? billing::normalise_card_code(c.get_string()) : std::nullopt;
                       if (!code) fail("invalid_params", "not a card code: " + json::serialize(c));
                       codes.push_back(*code);
                   }
               }
               auto batch = p.opt_str("batch").value_or("");
               if (codes.empty() && batch.empty()) fail("invalid_params", "give 'codes' or 'batch'");
               auto n = co_await s.db.run([&](store::store& st) { return st.revoke_cards(codes, batch, chat::unix_now()); });
               ctx.audit_after = json::object{{"revoked", n}};
               co_return json::object{{"revoked", n}};
           },
           true});

    d.add({"admin.users.list", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               store::page_cursor page;
               page.after = p.opt_str("cursor");
               page.limit = static_cast<int>(std::clamp<std::int64_t>(p.opt_i64("limit").value_or(50), 1, 1000));
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
               co_return json::object{{"items", std::move(items)},
                                      {"next_cursor", next ? json::value(*next) : json::value(nullptr)}};
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
               std::optional<billing::balance> before;
               auto bal = co_await s.db.run([&, actor = ctx.actor()](store::store& st) {
                   if (auto u = st.user_by_id(id)) before = u->balance;
                   return st.grant(id, questions, days, bucket, actor, chat::unix_now());
               });
               auto now = chat::unix_now();
               if (before) ctx.audit_before = chat::balance_to_json(*before, now);
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

    d.add({"admin.settings.get", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               json::object out;
               if (auto key = p.opt_str("key")) {
                   if (!s.site.known(*key)) fail("invalid_params", "unknown setting '" + *key + "'");
                   out[*key] = s.site.get(*key);
               } else {
                   for (auto& [k, val] : s.site.all()) out[k] = val;
               }
               co_return out;
           }});

    d.add({"admin.settings.set", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto key = p.str("key");
               auto raw = p.get("value");
               if (!raw) fail("invalid_params", "missing 'value'");
               std::string value;
               if (raw->is_string()) value = std::string(raw->get_string());
               else if (raw->is_bool()) value = raw->get_bool() ? "on" : "off";
               else if (raw->is_number()) value = json::serialize(*raw);
               else fail("invalid_params", "'value' must be a string, number or boolean");
               std::string normalised;
               try {
                   normalised = s.site.validate(key, value);
               } catch (const std::invalid_argument& e) {
                   fail("invalid_params", e.what());
               }
               co_await s.db.run([key, normalised](store::store& st) {
                   st.set_setting(key, normalised);
                   return 0;
               });
               ctx.audit_before = json::object{{key, s.site.get(key)}};
               ctx.audit_after = json::object{{key, normalised}};
               s.site.put(key, normalised);
               if (key == "content.sensitive_words") s.chat.set_sensitive_words(normalised);
               co_return json::object{};
           },
           true});

    d.add({"admin.admins.add", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               params p(v);
               auto id = co_await s.auth.add_admin(p.str("username"), p.str("password"));
               ctx.audit_after = json::object{{"id", id}};
               co_return json::object{{"id", id}};
           },
           true});

    d.add({"admin.conversations.list", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               store::page_cursor page;
               page.after = p.opt_str("cursor");
               page.limit = static_cast<int>(std::clamp<std::int64_t>(p.opt_i64("limit").value_or(50), 1, 500));
               auto query = p.opt_str("query").value_or("");
               auto user = p.opt_i64("user_id");
               std::optional<std::string> next;
               auto rows = co_await s.db.read([&](store::store& st) {
                   // Across every user the full-text index answers; one user's few are scanned.
                   if (!query.empty() && !user) {
                       auto expression = store::search_expression(query);
                       if (expression.empty()) return std::vector<store::conversation_row>{};
                       return st.search_conversations(expression, page, next);
                   }
                   return st.conversations(user.value_or(0), query, page, next, true);
               });
               json::array items;
               for (auto& c : rows)
                   items.push_back(json::object{{"id", c.id}, {"title", c.title}, {"user_id", c.user_id},
                                                {"user_name", c.username}, {"model", c.model},
                                                {"updated_at", c.updated_at}, {"created_at", c.created_at},
                                                {"deleted_at", null_or(c.deleted_at)}});
               co_return json::object{{"items", std::move(items)},
                                      {"next_cursor", next ? json::value(*next) : json::value(nullptr)}};
           }});

    d.add({"admin.audit.list", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               store::page_cursor page;
               page.after = p.opt_str("cursor");
               page.limit = static_cast<int>(std::clamp<std::int64_t>(p.opt_i64("limit").value_or(50), 1, 1000));
               std::optional<std::string> next;
               auto rows = co_await s.db.read([&](store::store& st) { return st.audit_log(page, next); });
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
               co_return json::object{{"items", std::move(items)},
                                      {"next_cursor", next ? json::value(*next) : json::value(nullptr)}};
           }});

    d.add({"admin.stats", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               auto days = static_cast<int>(std::clamp<std::int64_t>(params(v).opt_i64("days").value_or(30), 1, 366));
               auto rows = co_await s.db.read([days](store::store& st) { return st.stats(days, chat::unix_now()); });
               json::array out;
               for (auto& d : rows)
                   out.push_back(json::object{{"date", d.date}, {"questions", d.questions}, {"new_users", d.new_users},
                                              {"active_users", d.active_users}, {"redemptions", d.redemptions},
                                              {"credits_sold", d.credits_sold},
                                              {"first_token_p50_ms", null_or(d.first_token_p50_ms)},
                                              {"first_token_p95_ms", null_or(d.first_token_p95_ms)}});
               co_return json::object{{"days", std::move(out)}};
           }});

    d.add({"admin.conversations.get", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               auto id = params(v).i64("id");
               co_return co_await s.db.read([id](store::store& st) -> json::value {
                   auto c = st.conversation(id);
                   if (!c) throw app_error("not_found", "no such conversation");
                   auto o = conversation_detail(st, *c);
                   o["user_id"] = c->user_id;
                   o["user_name"] = c->username;
                   o["deleted_at"] = null_or(c->deleted_at);
                   return o;
               });
           }});

    d.add({"admin.backup", access::admin,
           [&s](const json::value& v, call_context& ctx) -> awaitable<json::value> {
               auto path = params(v).str("path");
               if (!std::filesystem::path(path).is_absolute()) fail("invalid_params", "path must be absolute");
               auto bytes = co_await s.db.run_alone([path](store::store& st) { return st.backup_to(path); });
               ctx.audit_after = json::object{{"bytes", bytes}};
               co_return json::object{{"bytes", bytes}};
           },
           true});
}

}  // namespace chatd::rpc
