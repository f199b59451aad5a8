// The operator's view: audit log, counts, day rollups, ledger checks, backup, search backfill.
#include "store/sqlite/sqlite_store.hpp"

#include <SQLiteCpp/Backup.h>

#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <map>

#include "store/dates.hpp"

namespace chatd::store {

namespace {

// Six columns from `first`: questions, prompt, completion and reasoning tokens, cost, credits.
usage_totals usage_of(SQLite::Statement& st, int first) {
    return {st.getColumn(first).getInt64(),     st.getColumn(first + 1).getInt64(),
            st.getColumn(first + 2).getInt64(), st.getColumn(first + 3).getInt64(),
            st.getColumn(first + 4).getDouble(), st.getColumn(first + 5).getInt64()};
}

}  // namespace

void sqlite_store::audit(const audit_row& e) {
    stmt st = prepare(
        "INSERT INTO audit_log (at, actor, via, method, params, address, before, after) VALUES (?,?,?,?,?,?,?,?)");
    st.bind(1, e.at);
    st.bind(2, e.actor);
    st.bind(3, e.via);
    st.bind(4, e.method);
    st.bind(5, e.params);
    bind_text_or_null(st, 6, e.address);
    bind_text_or_null(st, 7, e.before);
    bind_text_or_null(st, 8, e.after);
    st.exec();
}

status_counts sqlite_store::counts() {
    status_counts c;
    c.users = db_.execAndGet("SELECT count(*) FROM users WHERE is_admin = 0").getInt64();
    c.admins = db_.execAndGet("SELECT count(*) FROM users WHERE is_admin = 1").getInt64();
    c.conversations = db_.execAndGet("SELECT count(*) FROM conversations").getInt64();
    c.search_backlog = db_.execAndGet("SELECT max(below - next_id, 0) FROM search_backfill").getInt64() +
                       db_.execAndGet("SELECT count(*) FROM search_queue").getInt64();
    return c;
}

std::vector<audit_row> sqlite_store::audit_log(const page_cursor& page, std::optional<std::string>& next) {
    std::int64_t before = page.after ? std::strtoll(page.after->c_str(), nullptr, 10) : INT64_MAX;
    stmt st = prepare(
        "SELECT id, at, actor, via, method, params, address, before, after FROM audit_log WHERE id < ? "
        "ORDER BY id DESC LIMIT ?");
    st.bind(1, before);
    st.bind(2, page.limit + 1);
    std::vector<audit_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getString(),
                       st.getColumn(3).getString(), st.getColumn(4).getString(), st.getColumn(5).getString(),
                       text(st.getColumn(6)), text(st.getColumn(7)), text(st.getColumn(8))});
    finish_page(out, page.limit, next, [](const auto& r) { return std::to_string(r.id); });
    return out;
}

int sqlite_store::backfill_search(int batch) {
    savepoint t(db_);
    std::int64_t next = 0, below = 0;
    {
        stmt st = prepare("SELECT next_id, below FROM search_backfill");
        if (!st.executeStep()) return 0;
        next = st.getColumn(0).getInt64();
        below = st.getColumn(1).getInt64();
    }
    if (next >= below) return 0;
    stmt rows = prepare("SELECT id, content FROM messages WHERE id >= ? AND id < ? ORDER BY id LIMIT ?");
    rows.bind(1, next);
    rows.bind(2, below);
    rows.bind(3, batch);
    stmt add = prepare("INSERT INTO message_search (rowid, content) VALUES (?, ?)");
    int n = 0;
    std::int64_t last = next;
    while (rows.executeStep()) {
        last = rows.getColumn(0).getInt64();
        add.reset();
        add.bind(1, last);
        add.bind(2, rows.getColumn(1).getString());
        add.exec();
        ++n;
    }
    stmt done = prepare("UPDATE search_backfill SET next_id = ?");
    done.bind(1, n < batch ? below : last + 1);
    done.exec();
    t.commit();
    return n;
}

std::optional<int> sqlite_store::index_queued_search(int batch) {
    savepoint t(db_);
    // The oldest `batch` queued ids, indexed and dequeued in SQL: no text is copied out. A
    // message deleted while it waited has no row to join, so only its queue entry goes.
    int n = 0;
    std::int64_t last = 0;
    {
        stmt taken = prepare(
            "SELECT count(*), coalesce(max(message_id), 0) FROM "
            "(SELECT message_id FROM search_queue ORDER BY message_id LIMIT ?)");
        taken.bind(1, batch);
        taken.executeStep();
        n = taken.getColumn(0).getInt();
        last = taken.getColumn(1).getInt64();
    }
    if (n > 0) {
        // CROSS JOIN keeps the queue as the outer loop. With a plain JOIN, SQLite carries the
        // bound over to messages.id and walks every message older than the newest queued one.
        stmt add = prepare(
            "INSERT INTO message_search (rowid, content) SELECT m.id, m.content FROM search_queue q "
            "CROSS JOIN messages m ON m.id = q.message_id WHERE q.message_id <= ?");
        add.bind(1, last);
        add.exec();
        stmt done = prepare("DELETE FROM search_queue WHERE message_id <= ?");
        done.bind(1, last);
        done.exec();
    }
    t.commit();
    return n;
}

std::vector<day_stats> sqlite_store::stats(int days, std::int64_t now) {
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
        stmt st = prepare(
            "SELECT date, questions, new_users, redemptions, credits_sold, orders, paid_cents, api_questions FROM daily_stats "
            "WHERE date >= ?");
        st.bind(1, since);
        while (st.executeStep()) {
            auto it = by_day.find(st.getColumn(0).getString());
            if (it == by_day.end()) continue;
            it->second->questions = st.getColumn(1).getInt64();
            it->second->new_users = st.getColumn(2).getInt64();
            it->second->redemptions = st.getColumn(3).getInt64();
            it->second->credits_sold = st.getColumn(4).getInt64();
            it->second->orders = st.getColumn(5).getInt64();
            it->second->paid_cents = st.getColumn(6).getInt64();
            it->second->api_questions = st.getColumn(7).getInt64();
        }
    }
    {
        stmt st = prepare("SELECT date, count(*) FROM daily_active WHERE date >= ? GROUP BY date");
        st.bind(1, since);
        while (st.executeStep())
            if (auto it = by_day.find(st.getColumn(0).getString()); it != by_day.end())
                it->second->active_users = st.getColumn(1).getInt64();
    }
    {
        std::map<std::string, std::vector<std::pair<int, std::int64_t>>> histograms;
        stmt st = prepare("SELECT date, bucket, count FROM daily_latency WHERE date >= ? ORDER BY date, bucket");
        st.bind(1, since);
        while (st.executeStep())
            histograms[st.getColumn(0).getString()].emplace_back(st.getColumn(1).getInt(), st.getColumn(2).getInt64());
        for (auto& entry : histograms) {
            auto it = by_day.find(entry.first);
            if (it == by_day.end()) continue;
            it->second->first_token_p50_ms = latency_percentile(entry.second, 0.50);
            it->second->first_token_p95_ms = latency_percentile(entry.second, 0.95);
        }
    }
    {
        stmt st = prepare(
            "SELECT date, sum(questions), sum(prompt_tokens), sum(completion_tokens), sum(reasoning_tokens), "
            "sum(upstream_cost), sum(credits) FROM daily_model_usage WHERE date >= ? GROUP BY date");
        st.bind(1, since);
        while (st.executeStep())
            if (auto it = by_day.find(st.getColumn(0).getString()); it != by_day.end())
                it->second->usage = usage_of(st, 1);
    }
    return out;
}

std::vector<model_usage> sqlite_store::usage_by_model(int days, std::int64_t now) {
    stmt st = prepare(
        "SELECT model, sum(questions), sum(prompt_tokens), sum(completion_tokens), sum(reasoning_tokens), "
        "sum(upstream_cost), sum(credits) FROM daily_model_usage WHERE date >= ? GROUP BY model "
        "ORDER BY sum(questions) DESC, model");
    st.bind(1, local_date_before(now, days - 1));
    std::vector<model_usage> out;
    while (st.executeStep()) out.push_back({st.getColumn(0).getString(), usage_of(st, 1)});
    return out;
}

void sqlite_store::count_usage(std::int64_t asked_at, const std::string& model, const usage_totals& u) {
    stmt st = prepare(
        "INSERT INTO daily_model_usage (date, model, questions, prompt_tokens, completion_tokens, reasoning_tokens, "
        "upstream_cost, credits) VALUES (?,?,?,?,?,?,?,?) ON CONFLICT (date, model) DO UPDATE SET "
        "questions = questions + excluded.questions, prompt_tokens = prompt_tokens + excluded.prompt_tokens, "
        "completion_tokens = completion_tokens + excluded.completion_tokens, "
        "reasoning_tokens = reasoning_tokens + excluded.reasoning_tokens, "
        "upstream_cost = upstream_cost + excluded.upstream_cost, credits = credits + excluded.credits");
    st.bind(1, local_date(asked_at));
    st.bind(2, model);
    st.bind(3, u.questions);
    st.bind(4, u.prompt_tokens);
    st.bind(5, u.completion_tokens);
    st.bind(6, u.reasoning_tokens);
    st.bind(7, u.upstream_cost);
    st.bind(8, u.credits);
    st.exec();
}

void sqlite_store::count_day(std::int64_t at, day_counter what, std::int64_t by) {
    static constexpr const char* sql[] = {
        "INSERT INTO daily_stats (date, questions) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET questions = questions + excluded.questions",
        "INSERT INTO daily_stats (date, new_users) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET new_users = new_users + excluded.new_users",
        "INSERT INTO daily_stats (date, redemptions) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET redemptions = redemptions + excluded.redemptions",
        "INSERT INTO daily_stats (date, credits_sold) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET credits_sold = credits_sold + excluded.credits_sold",
        "INSERT INTO daily_stats (date, api_questions) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET api_questions = api_questions + excluded.api_questions",
    };
    stmt st = prepare(sql[static_cast<int>(what)]);
    st.bind(1, local_date(at));
    st.bind(2, by);
    st.exec();
}

void sqlite_store::count_paid_order(std::int64_t at, std::int64_t questions, std::int64_t cents) {
    stmt st = prepare(
        "INSERT INTO daily_stats (date, orders, paid_cents, credits_sold) VALUES (?, 1, ?, ?) "
        "ON CONFLICT (date) DO UPDATE SET orders = orders + 1, paid_cents = paid_cents + excluded.paid_cents, "
        "credits_sold = credits_sold + excluded.credits_sold");
    st.bind(1, local_date(at));
    st.bind(2, cents);
    st.bind(3, questions);
    st.exec();
}

void sqlite_store::count_active(std::int64_t at, id_t user_id) {
    // Visitors only: an operator trying the chat is not an active user.
    stmt st = prepare(
        "INSERT OR IGNORE INTO daily_active (date, user_id) SELECT ?, id FROM users WHERE id = ? AND is_admin = 0");
    st.bind(1, local_date(at));
    st.bind(2, user_id);
    st.exec();
}

void sqlite_store::count_latency(std::int64_t at, std::int64_t first_token_ms) {
    stmt st = prepare("INSERT INTO daily_latency (date, bucket, count) VALUES (?, ?, 1) "
                      "ON CONFLICT (date, bucket) DO UPDATE SET count = count + 1");
    st.bind(1, local_date(at));
    st.bind(2, latency_bucket(first_token_ms));
    st.exec();
}

std::vector<id_t> sqlite_store::ledger_mismatches() {
    stmt st = prepare(
        "SELECT u.id FROM users u LEFT JOIN (SELECT user_id, sum(delta_trial) t, sum(delta_paid) p FROM ledger "
        "GROUP BY user_id) l ON l.user_id = u.id WHERE u.trial_credits != COALESCE(l.t, 0) OR "
        "u.paid_credits != COALESCE(l.p, 0)");
    std::vector<id_t> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
    return out;
}

std::int64_t sqlite_store::backup_to(const std::string& path) {
    if (std::filesystem::exists(path)) throw app_error("invalid_params", "file exists: " + path);
    {
        SQLite::Database dest(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        SQLite::Backup b(dest, db_);
        b.executeStep();
    }
    return static_cast<std::int64_t>(std::filesystem::file_size(path));
}

}  // namespace chatd::store
