// Operator methods for running the site: status, settings, every user's logs, audit, stats, backup.
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <filesystem>
#include <mutex>
#include <spdlog/spdlog.h>

#include "rpc/method_groups.hpp"
#include "store/text_search.hpp"

namespace chatd::rpc {

namespace asio = boost::asio;
using asio::awaitable;

namespace {

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

}  // namespace

void add_admin_ops_methods(dispatcher& d, services& s) {
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

    d.add({"admin.conversations.list", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               auto page = page_of(p, 50, 500);
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
               co_return page_json(std::move(items), next);
           }});

    d.add({"admin.audit.list", access::admin, [&s](const json::value& v, call_context&) -> awaitable<json::value> {
               params p(v);
               auto page = page_of(p, 50, 1000);
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
               co_return page_json(std::move(items), next);
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
