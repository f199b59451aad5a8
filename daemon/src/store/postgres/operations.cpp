// The operator's view: audit log, counts, day rollups, ledger checks; backup and search backfill
// are PostgreSQL's own business.
#include <cstdint>
#include <cstdlib>
#include <map>

#include "store/dates.hpp"
#include "store/paging.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/dump.hpp"
#include "store/postgres/values.hpp"
#include "util/app_error.hpp"

namespace chatd::store {

using namespace pg;

namespace {

// Six columns from `first`: questions, prompt, completion and reasoning tokens, cost, credits.
usage_totals usage_of(const result& r, int row, int first) {
    return {i64(r, row, first),     i64(r, row, first + 1),  i64(r, row, first + 2),
            i64(r, row, first + 3), real(r, row, first + 4), i64(r, row, first + 5)};
}

// The sums usage_of reads; sum() of a BIGINT is a NUMERIC, read back as an integer.
constexpr const char* usage_sums =
    "sum(questions)::bigint, sum(prompt_tokens)::bigint, sum(completion_tokens)::bigint, "
    "sum(reasoning_tokens)::bigint, sum(upstream_cost), sum(credits)::bigint";

}  // namespace

void postgres_store::audit(const audit_row& e) {
    db_.exec("INSERT INTO audit_log (at, actor, via, method, params, address, before, after) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
             {p(e.at), p(e.actor), p(e.via), p(e.method), p(e.params), text_or_null(e.address),
              text_or_null(e.before), text_or_null(e.after)});
}

status_counts postgres_store::counts() {
    auto r = db_.exec("SELECT (SELECT count(*) FROM users WHERE is_admin = 0), "
                      "(SELECT count(*) FROM users WHERE is_admin = 1), (SELECT count(*) FROM conversations)");
    status_counts c;
    c.users = i64(r, 0, 0);
    c.admins = i64(r, 0, 1);
    c.conversations = i64(r, 0, 2);
    c.search_backlog = 0;  // the trigram index covers every message as it is written
    return c;
}

std::vector<audit_row> postgres_store::audit_log(const page_cursor& page, std::optional<std::string>& next) {
    std::int64_t before = page.after ? std::strtoll(page.after->c_str(), nullptr, 10) : INT64_MAX;
    auto r = db_.exec("SELECT id, at, actor, via, method, params, address, before, after FROM audit_log "
                      "WHERE id < $1 ORDER BY id DESC LIMIT $2",
                      {p(before), p(page.limit + 1)});
    std::vector<audit_row> out;
    for (int row = 0; row < r.rows(); ++row)
        out.push_back({i64(r, row, 0), i64(r, row, 1), str(r, row, 2), str(r, row, 3), str(r, row, 4),
                       str(r, row, 5), str(r, row, 6), str(r, row, 7), str(r, row, 8)});
    finish_page(out, page.limit, next, [](const auto& a) { return std::to_string(a.id); });
    return out;
}

int postgres_store::backfill_search(int) {
    // The log search is a trigram index over messages themselves (migration 008): nothing to fill.
    return 0;
}

std::vector<day_stats> postgres_store::stats(int days, std::int64_t now) {
    // Reads the rollups of the last `days` days (server local time), oldest first.
    std::vector<day_stats> out(static_cast<std::size_t>(days));
    std::map<std::string, day_stats*> by_day;
    for (int i = 0; i < days; ++i) {
        auto& d = out[static_cast<std::size_t>(i)];
        d.date = local_date_before(now, days - 1 - i);
        by_day[d.date] = &d;
    }
    const std::string& since = out.front().date;
    {
        auto r = db_.exec("SELECT date, questions, new_users, redemptions, credits_sold, orders, paid_cents, api_questions "
                          "FROM daily_stats WHERE date >= $1",
                          {p(since)});
        for (int row = 0; row < r.rows(); ++row) {
            auto it = by_day.find(str(r, row, 0));
            if (it == by_day.end()) continue;
            it->second->questions = i64(r, row, 1);
            it->second->new_users = i64(r, row, 2);
            it->second->redemptions = i64(r, row, 3);
            it->second->credits_sold = i64(r, row, 4);
            it->second->orders = i64(r, row, 5);
            it->second->paid_cents = i64(r, row, 6);
            it->second->api_questions = i64(r, row, 7);
        }
    }
    {
        auto r = db_.exec("SELECT date, count(*) FROM daily_active WHERE date >= $1 GROUP BY date", {p(since)});
        for (int row = 0; row < r.rows(); ++row)
            if (auto it = by_day.find(str(r, row, 0)); it != by_day.end()) it->second->active_users = i64(r, row, 1);
    }
    {
        std::map<std::string, std::vector<std::pair<int, std::int64_t>>> histograms;
        auto r = db_.exec("SELECT date, bucket, count FROM daily_latency WHERE date >= $1 ORDER BY date, bucket",
                          {p(since)});
        for (int row = 0; row < r.rows(); ++row)
            histograms[str(r, row, 0)].emplace_back(static_cast<int>(i64(r, row, 1)), i64(r, row, 2));
        for (auto& entry : histograms) {
            auto it = by_day.find(entry.first);
            if (it == by_day.end()) continue;
            it->second->first_token_p50_ms = latency_percentile(entry.second, 0.50);
            it->second->first_token_p95_ms = latency_percentile(entry.second, 0.95);
        }
    }
    {
        auto r = db_.exec(std::string("SELECT date, ") + usage_sums +
                              " FROM daily_model_usage WHERE date >= $1 GROUP BY date",
                          {p(since)});
        for (int row = 0; row < r.rows(); ++row)
            if (auto it = by_day.find(str(r, row, 0)); it != by_day.end()) it->second->usage = usage_of(r, row, 1);
    }
    return out;
}

std::vector<model_usage> postgres_store::usage_by_model(int days, std::int64_t now) {
    // Model names order as bytes, as in SQLite, whatever the database's collation.
    auto r = db_.exec(std::string("SELECT model, ") + usage_sums +
                          " FROM daily_model_usage WHERE date >= $1 GROUP BY model "
                          "ORDER BY sum(questions) DESC, model COLLATE \"C\"",
                      {p(local_date_before(now, days - 1))});
    std::vector<model_usage> out;
    for (int row = 0; row < r.rows(); ++row) out.push_back({str(r, row, 0), usage_of(r, row, 1)});
    return out;
}

// The counters add in SQL (upserts), never read and write back: several chatd processes may
// count the same day at once.

void postgres_store::count_usage(std::int64_t asked_at, const std::string& model, const usage_totals& u) {
    db_.exec("INSERT INTO daily_model_usage AS d (date, model, questions, prompt_tokens, completion_tokens, "
             "reasoning_tokens, upstream_cost, credits) VALUES ($1, $2, $3, $4, $5, $6, $7, $8) "
             "ON CONFLICT (date, model) DO UPDATE SET questions = d.questions + EXCLUDED.questions, "
             "prompt_tokens = d.prompt_tokens + EXCLUDED.prompt_tokens, "
             "completion_tokens = d.completion_tokens + EXCLUDED.completion_tokens, "
             "reasoning_tokens = d.reasoning_tokens + EXCLUDED.reasoning_tokens, "
             "upstream_cost = d.upstream_cost + EXCLUDED.upstream_cost, credits = d.credits + EXCLUDED.credits",
             {p(local_date(asked_at)), p(model), p(u.questions), p(u.prompt_tokens), p(u.completion_tokens),
              p(u.reasoning_tokens), p(u.upstream_cost), p(u.credits)});
}

void postgres_store::count_day(std::int64_t at, day_counter what, std::int64_t by) {
    static constexpr const char* sql[] = {
        "INSERT INTO daily_stats AS d (date, questions) VALUES ($1, $2) "
        "ON CONFLICT (date) DO UPDATE SET questions = d.questions + EXCLUDED.questions",
        "INSERT INTO daily_stats AS d (date, new_users) VALUES ($1, $2) "
        "ON CONFLICT (date) DO UPDATE SET new_users = d.new_users + EXCLUDED.new_users",
        "INSERT INTO daily_stats AS d (date, redemptions) VALUES ($1, $2) "
        "ON CONFLICT (date) DO UPDATE SET redemptions = d.redemptions + EXCLUDED.redemptions",
        "INSERT INTO daily_stats AS d (date, credits_sold) VALUES ($1, $2) "
        "ON CONFLICT (date) DO UPDATE SET credits_sold = d.credits_sold + EXCLUDED.credits_sold",
        "INSERT INTO daily_stats AS d (date, api_questions) VALUES ($1, $2) "
        "ON CONFLICT (date) DO UPDATE SET api_questions = d.api_questions + EXCLUDED.api_questions",
    };
    db_.exec(sql[static_cast<int>(what)], {p(local_date(at)), p(by)});
}

void postgres_store::count_active(std::int64_t at, id_t user_id) {
    // Visitors only: an operator trying the chat is not an active user.
    db_.exec("INSERT INTO daily_active (date, user_id) SELECT $1::text, id FROM users WHERE id = $2 AND is_admin = 0 "
             "ON CONFLICT DO NOTHING",
             {p(local_date(at)), p(user_id)});
}

void postgres_store::count_latency(std::int64_t at, std::int64_t first_token_ms) {
    db_.exec("INSERT INTO daily_latency AS d (date, bucket, count) VALUES ($1, $2, 1) "
             "ON CONFLICT (date, bucket) DO UPDATE SET count = d.count + 1",
             {p(local_date(at)), p(latency_bucket(first_token_ms))});
}

std::vector<id_t> postgres_store::ledger_mismatches() {
    // By id: the order SQLite's scan of users gives.
    auto r = db_.exec(
        "SELECT u.id FROM users u LEFT JOIN (SELECT user_id, sum(delta_trial) t, sum(delta_paid) p FROM ledger "
        "GROUP BY user_id) l ON l.user_id = u.id WHERE u.trial_credits != COALESCE(l.t, 0) OR "
        "u.paid_credits != COALESCE(l.p, 0) ORDER BY u.id");
    std::vector<id_t> out;
    for (int row = 0; row < r.rows(); ++row) out.push_back(i64(r, row, 0));
    return out;
}

// pg_dump's custom format: `pg_restore -d URL FILE` restores it into an empty database.
std::int64_t postgres_store::backup_to(const std::string& path) { return pg::dump(db_, path); }

}  // namespace chatd::store
