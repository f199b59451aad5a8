// Upstream API keys and their status history.
#include "store/postgres/postgres_store.hpp"

#include <boost/json.hpp>

#include "store/postgres/values.hpp"

namespace chatd::store {

namespace json = boost::json;

using pg::flag;
using pg::i64;
using pg::opt_i64;
using pg::p;
using pg::str;
using pg::text_or_null;

std::vector<id_t> postgres_store::add_keys(const std::vector<std::string>& secrets, const std::string& base_url,
                                           const std::vector<std::string>& models, const std::string& note,
                                           const std::string& provider, std::int64_t now) {
    json::array m;
    for (auto& s : models) m.emplace_back(s);
    std::string models_json = json::serialize(m);
    pg::transaction t(db_);
    std::vector<id_t> ids;
    for (const auto& secret : secrets) {
        // A key added twice keeps its first row, so re-running an import is harmless.
        auto found = db_.exec("SELECT id FROM api_keys WHERE secret = $1", {p(secret)});
        if (found.rows() == 0) {
            found = db_.exec(
                "INSERT INTO api_keys (secret, base_url, models, note, provider, created_at) "
                "VALUES ($1,$2,$3,$4,$5,$6) ON CONFLICT (secret) DO NOTHING RETURNING id",
                {p(secret), text_or_null(base_url), p(models_json), text_or_null(note), p(provider), p(now)});
            // Another instance added it since the look-up: its row is the one kept.
            if (found.rows() == 0) found = db_.exec("SELECT id FROM api_keys WHERE secret = $1", {p(secret)});
        }
        ids.push_back(i64(found, 0, 0));
    }
    t.commit();
    return ids;
}

std::vector<key_row> postgres_store::keys() {
    auto r = db_.exec(
        "SELECT id, secret, base_url, models, note, provider, enabled, status, reason, cooldown_until, "
        "requests, failures, tokens_in, tokens_out, last_used_at, last_error, created_at, refuses_stream_options "
        "FROM api_keys ORDER BY id");
    std::vector<key_row> out;
    out.reserve(static_cast<std::size_t>(r.rows()));
    for (int i = 0; i < r.rows(); ++i) {
        key_row k;
        k.id = i64(r, i, 0);
        k.secret = str(r, i, 1);
        k.base_url = str(r, i, 2);
        boost::system::error_code ec;
        auto mv = json::parse(str(r, i, 3), ec);
        if (!ec && mv.is_array())
            for (auto& v : mv.as_array())
                if (v.is_string()) k.models.emplace_back(v.as_string());
        k.note = str(r, i, 4);
        k.provider = str(r, i, 5);
        k.enabled = flag(r, i, 6);
        k.status = str(r, i, 7);
        k.reason = str(r, i, 8);
        k.cooldown_until = opt_i64(r, i, 9);
        k.requests = i64(r, i, 10);
        k.failures = i64(r, i, 11);
        k.tokens_in = i64(r, i, 12);
        k.tokens_out = i64(r, i, 13);
        k.last_used_at = opt_i64(r, i, 14);
        k.last_error = str(r, i, 15);
        k.created_at = i64(r, i, 16);
        k.refuses_stream_options = flag(r, i, 17);
        out.push_back(std::move(k));
    }
    return out;
}

bool postgres_store::remove_key(id_t id) {
    return db_.exec("DELETE FROM api_keys WHERE id = $1", {p(id)}).affected() > 0;
}

bool postgres_store::set_key_enabled(id_t id, bool enabled) {
    return db_.exec("UPDATE api_keys SET enabled = $1 WHERE id = $2", {p(enabled), p(id)}).affected() > 0;
}

void postgres_store::save_key_usage(const std::vector<upstream::key_usage>& used) {
    if (used.empty()) return;
    pg::transaction t(db_);
    for (const auto& k : used) {
        // Increments, not totals: every instance adds what its own answers used.
        db_.exec(
            "UPDATE api_keys SET requests=requests+$1, failures=failures+$2, tokens_in=tokens_in+$3, "
            "tokens_out=tokens_out+$4, last_used_at=GREATEST(last_used_at, $5::bigint), "
            "last_error=$6 WHERE id=$7",
            {p(k.requests), p(k.failures), p(k.tokens_in), p(k.tokens_out), p(k.last_used_at),
             text_or_null(k.last_error), p(k.id)});
        if (k.health_changed)
            db_.exec("UPDATE api_keys SET status=$1, reason=$2, cooldown_until=$3, refuses_stream_options=$4 WHERE id=$5",
                     {p(k.status), text_or_null(k.reason), p(k.cooldown_until), p(k.refuses_stream_options), p(k.id)});
    }
    t.commit();
}

void postgres_store::add_key_events(const std::vector<key_event_row>& events) {
    if (events.empty()) return;
    pg::transaction t(db_);
    for (const auto& e : events)
        db_.exec("INSERT INTO key_events (key_id, at, status, reason) VALUES ($1,$2,$3,$4)",
                 {p(e.key_id), p(e.at), p(e.status), text_or_null(e.reason)});
    t.commit();
}

std::vector<key_event_row> postgres_store::key_events(id_t key_id, int limit) {
    auto r = db_.exec("SELECT key_id, at, status, reason FROM key_events WHERE key_id = $1 ORDER BY id DESC LIMIT $2",
                      {p(key_id), p(limit)});
    std::vector<key_event_row> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back({i64(r, i, 0), i64(r, i, 1), str(r, i, 2), str(r, i, 3)});
    return out;
}

}  // namespace chatd::store
