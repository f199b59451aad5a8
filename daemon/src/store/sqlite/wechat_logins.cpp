// WeChat login state in the database. A single SQLite instance keeps this state in memory
// (wechat/memory_login_state.hpp); these are the twins of store/postgres/wechat_logins.cpp for
// the store's tests and for a uniform interface. One writer runs every call in turn, so a
// read followed by a write inside a savepoint is already one step.
#include "store/sqlite/sqlite_store.hpp"

namespace chatd::store {

namespace {

constexpr const char* login_columns = "ticket, scene, browser, invite, openid, qr_url, expires_at";

wechat_login_row login_of(stmt& st) {
    return {text(st.getColumn(0)), text(st.getColumn(1)), text(st.getColumn(2)), text(st.getColumn(3)),
            text(st.getColumn(4)), text(st.getColumn(5)), st.getColumn(6).getInt64()};
}

}  // namespace

std::optional<wechat_login_row> sqlite_store::reuse_wechat_login(const std::string& browser,
                                                                 const std::string& invite,
                                                                 std::int64_t min_expires_at) {
    savepoint t(db_);
    stmt q = prepare(std::string("SELECT ") + login_columns +
                     " FROM wechat_logins WHERE browser = ? AND openid = '' AND expires_at > ?");
    q.bind(1, browser);
    q.bind(2, min_expires_at);
    if (!q.executeStep()) return std::nullopt;
    auto row = login_of(q);
    stmt u = prepare("UPDATE wechat_logins SET invite = ? WHERE ticket = ?");
    u.bind(1, invite);
    u.bind(2, row.ticket);
    u.exec();
    t.commit();
    row.invite = invite;
    return row;
}

bool sqlite_store::add_wechat_login(const wechat_login_row& row, std::int64_t now, std::int64_t capacity) {
    savepoint t(db_);
    stmt sweep = prepare("DELETE FROM wechat_logins WHERE expires_at <= ? OR browser = ?");
    sweep.bind(1, now);
    sweep.bind(2, row.browser);  // replaced: only the browser's newest code can log it in
    sweep.exec();
    if (db_.execAndGet("SELECT count(*) FROM wechat_logins").getInt64() >= capacity) return false;
    stmt ins = prepare("INSERT INTO wechat_logins (ticket, scene, browser, invite, openid, qr_url, expires_at) "
                       "VALUES (?, ?, ?, ?, '', ?, ?)");
    ins.bind(1, row.ticket);
    ins.bind(2, row.scene);
    ins.bind(3, row.browser);
    ins.bind(4, row.invite);
    ins.bind(5, row.qr_url);
    ins.bind(6, row.expires_at);
    ins.exec();
    t.commit();
    return true;
}

wechat_scan sqlite_store::bind_wechat_login(const std::string& scene, const std::string& ticket,
                                            const std::string& openid, std::int64_t now) {
    stmt q = prepare("SELECT ticket, openid FROM wechat_logins WHERE scene = ? AND (? = '' OR ticket = ?) "
                     "AND expires_at > ?");
    q.bind(1, scene);
    q.bind(2, ticket);
    q.bind(3, ticket);
    q.bind(4, now);
    if (!q.executeStep()) return wechat_scan::expired;
    auto found_ticket = text(q.getColumn(0));
    auto holder = text(q.getColumn(1));
    q.reset();
    if (!holder.empty() && holder != openid) return wechat_scan::taken;
    stmt u = prepare("UPDATE wechat_logins SET openid = ? WHERE ticket = ?");
    u.bind(1, openid);
    u.bind(2, found_ticket);
    u.exec();
    return wechat_scan::bound;
}

std::optional<wechat_login_row> sqlite_store::take_wechat_login(const std::string& ticket,
                                                                const std::string& browser, std::int64_t now) {
    stmt q = prepare(std::string("SELECT ") + login_columns + " FROM wechat_logins WHERE ticket = ? AND browser = ?");
    q.bind(1, ticket);
    q.bind(2, browser);
    if (!q.executeStep()) return std::nullopt;
    auto row = login_of(q);
    q.reset();
    if (row.openid.empty() && row.expires_at > now) return row;
    stmt d = prepare("DELETE FROM wechat_logins WHERE ticket = ?");
    d.bind(1, ticket);
    d.exec();
    return row;
}

wechat_code_added sqlite_store::add_wechat_code(const std::string& code_hash, const std::string& openid,
                                                std::int64_t expires_at, std::int64_t now, std::int64_t capacity) {
    savepoint t(db_);
    stmt sweep = prepare("DELETE FROM wechat_codes WHERE expires_at <= ?");
    sweep.bind(1, now);
    sweep.exec();
    if (db_.execAndGet("SELECT count(*) FROM wechat_codes").getInt64() >= capacity) return wechat_code_added::full;
    stmt ins = prepare("INSERT INTO wechat_codes (code_hash, openid, expires_at) VALUES (?, ?, ?) "
                       "ON CONFLICT(code_hash) DO NOTHING");
    ins.bind(1, code_hash);
    ins.bind(2, openid);
    ins.bind(3, expires_at);
    if (ins.exec() == 0) return wechat_code_added::clash;
    t.commit();
    return wechat_code_added::added;
}

wechat_code_attempt sqlite_store::redeem_wechat_code(const std::string& code_hash, std::int64_t now_ms,
                                                     std::int64_t window_ms, int budget) {
    savepoint t(db_);
    stmt sweep = prepare("DELETE FROM wechat_code_guesses WHERE at_ms <= ?");
    sweep.bind(1, now_ms - window_ms);
    sweep.exec();
    wechat_code_attempt attempt;
    if (db_.execAndGet("SELECT count(*) FROM wechat_code_guesses").getInt64() >= budget) {
        attempt.refused = true;
        t.commit();
        return attempt;
    }
    stmt q = prepare("SELECT openid, expires_at FROM wechat_codes WHERE code_hash = ?");
    q.bind(1, code_hash);
    bool found = q.executeStep();
    if (found && q.getColumn(1).getInt64() > now_ms / 1000) attempt.openid = text(q.getColumn(0));
    q.reset();
    if (found) {
        stmt d = prepare("DELETE FROM wechat_codes WHERE code_hash = ?");
        d.bind(1, code_hash);
        d.exec();
    }
    if (!attempt.openid) {
        stmt g = prepare("INSERT INTO wechat_code_guesses (at_ms) VALUES (?)");
        g.bind(1, now_ms);
        g.exec();
    }
    t.commit();
    return attempt;
}

wechat_push_admission sqlite_store::admit_wechat_push(const std::string& signature, const std::string& message,
                                                      std::int64_t now, std::int64_t keep_s) {
    savepoint t(db_);
    for (auto sql : {"DELETE FROM wechat_push_signatures WHERE first_seen <= ?",
                     "DELETE FROM wechat_push_messages WHERE last_seen <= ?"}) {
        stmt sweep = prepare(sql);
        sweep.bind(1, now - keep_s);
        sweep.exec();
    }
    stmt s = prepare("INSERT INTO wechat_push_signatures (signature, message, first_seen) VALUES (?, ?, ?) "
                     "ON CONFLICT(signature) DO NOTHING");
    s.bind(1, signature);
    s.bind(2, message);
    s.bind(3, now);
    if (s.exec() == 0) {
        stmt q = prepare("SELECT message FROM wechat_push_signatures WHERE signature = ?");
        q.bind(1, signature);
        if (q.executeStep() && text(q.getColumn(0)) != message) {
            q.reset();
            t.commit();
            return {wechat_push_admission::verdict::reused, ""};
        }
    }
    wechat_push_admission admission;
    stmt q = prepare("SELECT reply FROM wechat_push_messages WHERE message = ?");
    q.bind(1, message);
    if (q.executeStep()) admission = {wechat_push_admission::verdict::retry, text(q.getColumn(0))};
    q.reset();
    stmt m = prepare("INSERT INTO wechat_push_messages (message, reply, last_seen) VALUES (?, '', ?) "
                     "ON CONFLICT(message) DO UPDATE SET last_seen = excluded.last_seen");
    m.bind(1, message);
    m.bind(2, now);
    m.exec();
    t.commit();
    return admission;
}

void sqlite_store::answer_wechat_push(const std::string& message, const std::string& reply) {
    stmt u = prepare("UPDATE wechat_push_messages SET reply = ? WHERE message = ?");
    u.bind(1, reply);
    u.bind(2, message);
    u.exec();
}

void sqlite_store::forget_wechat_push(const std::string& message) {
    stmt d = prepare("DELETE FROM wechat_push_messages WHERE message = ?");
    d.bind(1, message);
    d.exec();
}

wechat_token_row sqlite_store::wechat_token(const std::string& account) {
    stmt q = prepare("SELECT token, valid_until, rejected, last_forced FROM wechat_tokens WHERE account = ?");
    q.bind(1, account);
    if (!q.executeStep()) return {};
    return {text(q.getColumn(0)), q.getColumn(1).getInt64(), text(q.getColumn(2)), q.getColumn(3).getInt64()};
}

std::optional<wechat_token_row> sqlite_store::lease_wechat_token(const std::string& account, std::int64_t now,
                                                                 std::int64_t lease_until) {
    savepoint t(db_);
    stmt ins = prepare("INSERT INTO wechat_tokens (account) VALUES (?) ON CONFLICT(account) DO NOTHING");
    ins.bind(1, account);
    ins.exec();
    // Not while a valid token is there: another call may have saved one since the caller looked.
    stmt u = prepare("UPDATE wechat_tokens SET refreshing_until = ? WHERE account = ? AND refreshing_until <= ? "
                     "AND NOT (token <> '' AND valid_until > ?)");
    u.bind(1, lease_until);
    u.bind(2, account);
    u.bind(3, now);
    u.bind(4, now);
    if (u.exec() == 0) return std::nullopt;
    t.commit();
    return wechat_token(account);
}

void sqlite_store::save_wechat_token(const std::string& account, const std::string& token, std::int64_t valid_until,
                                     std::optional<std::int64_t> forced_at) {
    stmt u = prepare("UPDATE wechat_tokens SET token = ?1, valid_until = ?2, refreshing_until = 0, "
                     "rejected = CASE WHEN rejected = ?1 THEN rejected ELSE '' END, "
                     "last_forced = COALESCE(?3, last_forced) WHERE account = ?4");
    u.bind(1, token);
    u.bind(2, valid_until);
    bind_opt(u, 3, forced_at);
    u.bind(4, account);
    u.exec();
}

void sqlite_store::release_wechat_token(const std::string& account) {
    stmt u = prepare("UPDATE wechat_tokens SET refreshing_until = 0 WHERE account = ?");
    u.bind(1, account);
    u.exec();
}

void sqlite_store::reject_wechat_token(const std::string& account, const std::string& token) {
    stmt u = prepare("UPDATE wechat_tokens SET rejected = ?1, token = CASE WHEN token = ?1 THEN '' ELSE token END "
                     "WHERE account = ?2");
    u.bind(1, token);
    u.bind(2, account);
    u.exec();
}

}  // namespace chatd::store
