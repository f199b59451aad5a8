// Upstream API keys and their status history.
#include "store/sqlite/sqlite_store.hpp"

#include <boost/json.hpp>

namespace chatd::store {

namespace json = boost::json;

std::vector<id_t> sqlite_store::add_keys(const std::vector<std::string>& secrets, const std::string& base_url,
                                         const std::vector<std::string>& models, const std::string& note,
                                         const std::string& provider, std::int64_t now) {
    json::array m;
    for (auto& s : models) m.emplace_back(s);
    std::string models_json = json::serialize(m);
    savepoint t(db_);
    std::vector<id_t> ids;
    for (const auto& secret : secrets) {
        // A key added twice keeps its first row, so re-running an import is harmless.
        stmt find = prepare("SELECT id FROM api_keys WHERE secret = ?");
        find.bind(1, secret);
        if (find.executeStep()) {
            ids.push_back(find.getColumn(0).getInt64());
            continue;
        }
        stmt st = prepare(
            "INSERT INTO api_keys (secret, base_url, models, note, provider, created_at) VALUES (?,?,?,?,?,?)");
        st.bind(1, secret);
        bind_text_or_null(st, 2, base_url);
        st.bind(3, models_json);
        bind_text_or_null(st, 4, note);
        st.bind(5, provider);
        st.bind(6, now);
        st.exec();
        ids.push_back(db_.getLastInsertRowid());
    }
    t.commit();
    return ids;
}

std::vector<key_row> sqlite_store::keys() {
    stmt st = prepare(
        "SELECT id, secret, base_url, models, note, provider, enabled, status, reason, cooldown_until, "
        "requests, failures, tokens_in, tokens_out, last_used_at, last_error, created_at, refuses_stream_options "
        "FROM api_keys ORDER BY id");
    std::vector<key_row> out;
    while (st.executeStep()) {
        key_row k;
        k.id = st.getColumn(0).getInt64();
        k.secret = st.getColumn(1).getString();
        k.base_url = text(st.getColumn(2));
        boost::system::error_code ec;
        auto mv = json::parse(st.getColumn(3).getString(), ec);
        if (!ec && mv.is_array())
            for (auto& v : mv.as_array())
                if (v.is_string()) k.models.emplace_back(v.as_string());
        k.note = text(st.getColumn(4));
        k.provider = st.getColumn(5).getString();
        k.enabled = st.getColumn(6).getInt() != 0;
        k.status = st.getColumn(7).getString();
        k.reason = text(st.getColumn(8));
        k.cooldown_until = opt_i64(st.getColumn(9));
        k.requests = st.getColumn(10).getInt64();
        k.failures = st.getColumn(11).getInt64();
        k.tokens_in = st.getColumn(12).getInt64();
        k.tokens_out = st.getColumn(13).getInt64();
        k.last_used_at = opt_i64(st.getColumn(14));
        k.last_error = text(st.getColumn(15));
        k.created_at = st.getColumn(16).getInt64();
        k.refuses_stream_options = st.getColumn(17).getInt() != 0;
        out.push_back(std::move(k));
    }
    return out;
}

bool sqlite_store::remove_key(id_t id) {
    stmt st = prepare("DELETE FROM api_keys WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

bool sqlite_store::set_key_enabled(id_t id, bool enabled) {
    stmt st = prepare("UPDATE api_keys SET enabled = ? WHERE id = ?");
    st.bind(1, enabled ? 1 : 0);
    st.bind(2, id);
    return st.exec() > 0;
}

void sqlite_store::save_key_usage(const std::vector<upstream::key_usage>& used) {
    if (used.empty()) return;
    savepoint t(db_);
    stmt counted = prepare(
        "UPDATE api_keys SET requests=requests+?, failures=failures+?, tokens_in=tokens_in+?, "
        "tokens_out=tokens_out+?, last_used_at=?, last_error=? WHERE id=?");
    stmt health = prepare("UPDATE api_keys SET status=?, reason=?, cooldown_until=?, refuses_stream_options=? WHERE id=?");
    for (const auto& k : used) {
        counted.reset();
        counted.bind(1, k.requests);
        counted.bind(2, k.failures);
        counted.bind(3, k.tokens_in);
        counted.bind(4, k.tokens_out);
        bind_opt(counted, 5, k.last_used_at);
        bind_text_or_null(counted, 6, k.last_error);
        counted.bind(7, k.id);
        counted.exec();
        if (!k.health_changed) continue;
        health.reset();
        health.bind(1, k.status);
        bind_text_or_null(health, 2, k.reason);
        bind_opt(health, 3, k.cooldown_until);
        health.bind(4, k.refuses_stream_options ? 1 : 0);
        health.bind(5, k.id);
        health.exec();
    }
    t.commit();
}

void sqlite_store::add_key_events(const std::vector<key_event_row>& events) {
    if (events.empty()) return;
    savepoint t(db_);
    stmt st = prepare("INSERT INTO key_events (key_id, at, status, reason) VALUES (?,?,?,?)");
    for (const auto& e : events) {
        st.bind(1, e.key_id);
        st.bind(2, e.at);
        st.bind(3, e.status);
        bind_text_or_null(st, 4, e.reason);
        st.exec();
        st.reset();
    }
    t.commit();
}

std::vector<key_event_row> sqlite_store::key_events(id_t key_id, int limit) {
    stmt st = prepare("SELECT key_id, at, status, reason FROM key_events WHERE key_id = ? ORDER BY id DESC LIMIT ?");
    st.bind(1, key_id);
    st.bind(2, limit);
    std::vector<key_event_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getString(),
                       text(st.getColumn(3))});
    return out;
}

}  // namespace chatd::store
