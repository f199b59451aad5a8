// Users, operators' grants, the ledger, invites and sessions.
#include "store/sqlite/sqlite_store.hpp"

#include <cstdint>
#include <cstdlib>

#include "util/random.hpp"
#include "util/text.hpp"

namespace chatd::store {

namespace {

constexpr const char* user_columns =
    "id, username, password_hash, name, avatar, is_admin, banned, theme, invite_code, "
    "trial_credits, paid_credits, paid_expires_at, created_at, invited_by, wechat_openid, wechat_unionid, api_enabled, show_api_history";

user_row read_user(SQLite::Statement& st) {
    user_row u;
    u.id = st.getColumn(0).getInt64();
    if (!st.getColumn(1).isNull()) u.username = st.getColumn(1).getString();
    u.password_hash = text(st.getColumn(2));
    u.name = st.getColumn(3).getString();
    if (!st.getColumn(4).isNull()) u.avatar = st.getColumn(4).getString();
    u.is_admin = st.getColumn(5).getInt() != 0;
    u.banned = st.getColumn(6).getInt() != 0;
    u.theme = st.getColumn(7).getString();
    u.invite_code = st.getColumn(8).getString();
    u.balance.trial = st.getColumn(9).getInt64();
    u.balance.paid = st.getColumn(10).getInt64();
    u.balance.paid_expires_at = opt_i64(st.getColumn(11));
    u.created_at = st.getColumn(12).getInt64();
    u.invited_by = opt_i64(st.getColumn(13));
    if (!st.getColumn(14).isNull()) u.wechat_openid = st.getColumn(14).getString();
    if (!st.getColumn(15).isNull()) u.wechat_unionid = st.getColumn(15).getString();
    u.api_enabled = st.getColumn(16).getInt() != 0;
    u.show_api_history = st.getColumn(17).getInt() != 0;
    return u;
}

}  // namespace

void sqlite_store::append_ledger(id_t user, std::int64_t now, std::int64_t d_trial, std::int64_t d_paid,
                                 const std::string& reason, const std::string& ref) {
    stmt st = prepare(
        "INSERT INTO ledger (user_id, at, delta_trial, delta_paid, reason, ref) VALUES (?,?,?,?,?,?)");
    st.bind(1, user);
    st.bind(2, now);
    st.bind(3, d_trial);
    st.bind(4, d_paid);
    st.bind(5, reason);
    bind_text_or_null(st, 6, ref);
    st.exec();
}

user_row sqlite_store::create_password_user(const std::string& username, const std::string& password_hash,
                                            bool is_admin, std::int64_t now) {
    savepoint t(db_);
    {
        stmt exists = prepare("SELECT 1 FROM users WHERE username = ?");
        exists.bind(1, username);
        if (exists.executeStep()) throw app_error("username_taken", "username is taken");
    }
    stmt st = prepare(
        "INSERT INTO users (username, password_hash, name, is_admin, invite_code, created_at) VALUES (?,?,?,?,?,?)");
    st.bind(1, username);
    st.bind(2, password_hash);
    st.bind(3, username);
    st.bind(4, is_admin ? 1 : 0);
    st.bind(5, random_base32(8));
    st.bind(6, now);
    st.exec();
    id_t id = db_.getLastInsertRowid();
    // The dashboard counts visitors: an operator's own account is not one.
    if (!is_admin) count_day(now, day_counter::new_users, 1);
    t.commit();
    return *user_by_id(id);
}

user_row sqlite_store::create_wechat_user(const std::string& openid, const std::optional<std::string>& unionid,
                                          std::int64_t now) {
    savepoint t(db_);
    if (user_by_openid(openid)) throw app_error("openid_taken", "a user with this openid exists");
    stmt st = prepare(
        "INSERT INTO users (wechat_openid, wechat_unionid, name, invite_code, created_at) VALUES (?,?,?,?,?)");
    st.bind(1, openid);
    if (unionid) st.bind(2, *unionid);
    else st.bind(2);
    st.bind(3, "");
    st.bind(4, random_base32(8));
    st.bind(5, now);
    st.exec();
    id_t id = db_.getLastInsertRowid();
    // WeChat shares no nickname with the account any more; the user may rename themselves.
    stmt name = prepare("UPDATE users SET name = ? WHERE id = ?");
    name.bind(1, "微信用户" + std::to_string(id));
    name.bind(2, id);
    name.exec();
    count_day(now, day_counter::new_users, 1);
    t.commit();
    return *user_by_id(id);
}

std::optional<user_row> sqlite_store::user_by_openid(const std::string& openid) {
    stmt st = prepare(std::string("SELECT ") + user_columns + " FROM users WHERE wechat_openid = ?");
    st.bind(1, openid);
    if (!st.executeStep()) return std::nullopt;
    return read_user(st);
}

void sqlite_store::set_unionid(id_t user_id, const std::string& unionid) {
    stmt st = prepare("UPDATE users SET wechat_unionid = ? WHERE id = ?");
    st.bind(1, unionid);
    st.bind(2, user_id);
    st.exec();
}

std::vector<user_row> sqlite_store::users(const std::string& query, const page_cursor& page, std::optional<std::string>& next) {
    // Newest first by id; the query matches the id, the WeChat openid, the username or the name.
    std::int64_t before = INT64_MAX;
    if (page.after) before = std::strtoll(page.after->c_str(), nullptr, 10);
    std::string sql = std::string("SELECT ") + user_columns + " FROM users WHERE id < ?";
    if (!query.empty())
        sql += " AND (CAST(id AS TEXT) = ? OR wechat_openid = ? OR username LIKE ? ESCAPE '\\' OR name LIKE ? ESCAPE '\\')";
    sql += " ORDER BY id DESC LIMIT ?";
    stmt st = prepare(sql);
    int i = 1;
    st.bind(i++, before);
    if (!query.empty()) {
        st.bind(i++, query);
        st.bind(i++, query);
        auto pat = like_pattern(query);
        st.bind(i++, pat);
        st.bind(i++, pat);
    }
    st.bind(i++, page.limit + 1);
    std::vector<user_row> out;
    while (st.executeStep()) out.push_back(read_user(st));
    finish_page(out, page.limit, next, [](const auto& r) { return std::to_string(r.id); });
    return out;
}

void sqlite_store::set_banned(id_t user_id, bool banned) {
    stmt st = prepare("UPDATE users SET banned = ? WHERE id = ?");
    st.bind(1, banned ? 1 : 0);
    st.bind(2, user_id);
    if (st.exec() == 0) throw app_error("not_found", "no such user");
    if (banned) {
        stmt s2 = prepare("DELETE FROM sessions WHERE user_id = ?");
        s2.bind(1, user_id);
        s2.exec();
    }
}

// The users' personal API keys: the key itself is never stored, only its hash.
id_t sqlite_store::add_api_key(const api_key_row& key, const std::string& key_hash, int most) {
    savepoint t(db_);
    stmt count = prepare("SELECT count(*) FROM user_api_keys WHERE user_id = ? AND revoked_at IS NULL");
    count.bind(1, key.user_id);
    count.executeStep();
    if (count.getColumn(0).getInt64() >= most)
        throw app_error("invalid_params", "最多 " + std::to_string(most) + " 个 API 密钥，请先删除一个 (at most " +
                                              std::to_string(most) + " API keys: revoke one first)");
    stmt st = prepare(
        "INSERT INTO user_api_keys (user_id, name, key_hash, shown_prefix, shown_suffix, created_at) VALUES (?,?,?,?,?,?)");
    st.bind(1, key.user_id);
    st.bind(2, key.name);
    st.bind(3, key_hash);
    st.bind(4, key.shown_prefix);
    st.bind(5, key.shown_suffix);
    st.bind(6, key.created_at);
    st.exec();
    id_t id = db_.getLastInsertRowid();
    t.commit();
    return id;
}

std::vector<api_key_row> sqlite_store::api_keys(id_t user_id) {
    stmt st = prepare(
        "SELECT id, user_id, name, shown_prefix, shown_suffix, created_at, last_used_at FROM user_api_keys "
        "WHERE user_id = ? AND revoked_at IS NULL ORDER BY id");
    st.bind(1, user_id);
    std::vector<api_key_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getString(),
                       st.getColumn(3).getString(), st.getColumn(4).getString(), st.getColumn(5).getInt64(),
                       opt_i64(st.getColumn(6))});
    return out;
}

bool sqlite_store::revoke_api_key(id_t user_id, id_t key_id, std::int64_t now) {
    stmt st = prepare("UPDATE user_api_keys SET revoked_at = ? WHERE id = ? AND user_id = ? AND revoked_at IS NULL");
    st.bind(1, now);
    st.bind(2, key_id);
    st.bind(3, user_id);
    return st.exec() > 0;
}

std::optional<api_caller> sqlite_store::find_api_key(const std::string& key_hash) {
    stmt st = prepare("SELECT id, user_id, name, last_used_at FROM user_api_keys WHERE key_hash = ? AND revoked_at IS NULL");
    st.bind(1, key_hash);
    if (!st.executeStep()) return std::nullopt;
    api_caller out;
    out.key_id = st.getColumn(0).getInt64();
    id_t user_id = st.getColumn(1).getInt64();
    out.key_name = st.getColumn(2).getString();
    out.last_used_at = opt_i64(st.getColumn(3));
    auto user = user_by_id(user_id);
    if (!user) return std::nullopt;
    out.user = std::move(*user);
    return out;
}

void sqlite_store::note_api_key_used(id_t key_id, std::int64_t now) {
    stmt st = prepare("UPDATE user_api_keys SET last_used_at = max(coalesce(last_used_at, 0), ?) WHERE id = ?");
    st.bind(1, now);
    st.bind(2, key_id);
    st.exec();
}

bool sqlite_store::set_api_enabled(id_t user_id, bool enabled) {
    stmt st = prepare("UPDATE users SET api_enabled = ? WHERE id = ?");
    st.bind(1, enabled ? 1 : 0);
    st.bind(2, user_id);
    return st.exec() > 0;
}

void sqlite_store::atomically(const std::function<void()>& work) {
    savepoint t(db_);
    work();
    t.commit();
}

void sqlite_store::set_balance(id_t user_id, const balance& b) {
    stmt st = prepare("UPDATE users SET trial_credits = ?, paid_credits = ?, paid_expires_at = ? WHERE id = ?");
    st.bind(1, b.trial);
    st.bind(2, b.paid);
    bind_opt(st, 3, b.paid_expires_at);
    st.bind(4, user_id);
    if (st.exec() == 0) throw app_error("not_found", "no such user");
}

std::optional<id_t> sqlite_store::user_by_invite_code(const std::string& code) {
    stmt st = prepare("SELECT id FROM users WHERE invite_code = ?");
    st.bind(1, code);
    if (!st.executeStep()) return std::nullopt;
    return st.getColumn(0).getInt64();
}

void sqlite_store::set_inviter(id_t user_id, id_t inviter_id) {
    stmt st = prepare("UPDATE users SET invited_by = ? WHERE id = ?");
    st.bind(1, inviter_id);
    st.bind(2, user_id);
    st.exec();
}

std::optional<id_t> sqlite_store::inviter_of(id_t user_id) {
    auto u = user_by_id(user_id);
    return u ? u->invited_by : std::nullopt;
}

std::vector<ledger_row> sqlite_store::ledger(id_t user_id, const page_cursor& page, std::optional<std::string>& next) {
    std::int64_t before = page.after ? std::strtoll(page.after->c_str(), nullptr, 10) : INT64_MAX;
    stmt st = prepare("SELECT id, at, delta_trial, delta_paid, reason, ref FROM ledger WHERE user_id = ? AND id < ? "
                      "ORDER BY id DESC LIMIT ?");
    st.bind(1, user_id);
    st.bind(2, before);
    st.bind(3, page.limit + 1);
    std::vector<ledger_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getInt64(),
                       st.getColumn(3).getInt64(), st.getColumn(4).getString(), text(st.getColumn(5))});
    finish_page(out, page.limit, next, [](const auto& r) { return std::to_string(r.id); });
    return out;
}

sqlite_store::invite_stats sqlite_store::invites(id_t user_id) {
    invite_stats r;
    stmt a = prepare("SELECT count(*) FROM users WHERE invited_by = ?");
    a.bind(1, user_id);
    if (a.executeStep()) r.invited = a.getColumn(0).getInt64();
    stmt b = prepare("SELECT COALESCE(sum(delta_trial), 0) FROM ledger WHERE user_id = ? AND reason LIKE 'referral_%'");
    b.bind(1, user_id);
    if (b.executeStep()) r.rewarded = b.getColumn(0).getInt64();
    return r;
}

std::optional<user_row> sqlite_store::user_by_username(const std::string& username) {
    stmt st = prepare(std::string("SELECT ") + user_columns + " FROM users WHERE username = ?");
    st.bind(1, username);
    if (!st.executeStep()) return std::nullopt;
    return read_user(st);
}

std::optional<user_row> sqlite_store::user_by_id(id_t id) {
    stmt st = prepare(std::string("SELECT ") + user_columns + " FROM users WHERE id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return read_user(st);
}

void sqlite_store::update_user(id_t id, const profile_change& change) {
    stmt st = prepare(
        "UPDATE users SET name = COALESCE(?, name), theme = COALESCE(?, theme), "
        "show_api_history = COALESCE(?, show_api_history) WHERE id = ?");
    if (change.name) st.bind(1, *change.name); else st.bind(1);
    if (change.theme) st.bind(2, *change.theme); else st.bind(2);
    if (change.show_api_history) st.bind(3, *change.show_api_history ? 1 : 0); else st.bind(3);
    st.bind(4, id);
    st.exec();
}

balance sqlite_store::balance_of(id_t user_id) {
    auto u = user_by_id(user_id);
    if (!u) throw app_error("not_found", "no such user");
    return u->balance;
}

void sqlite_store::create_session(const std::string& token_hash, id_t user_id, std::int64_t now,
                                  std::int64_t expires_at, const std::string& ip,
                                  const std::string& user_agent) {
    stmt st = prepare(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip, user_agent) VALUES (?,?,?,?,?,?)");
    st.bind(1, token_hash);
    st.bind(2, user_id);
    st.bind(3, now);
    st.bind(4, expires_at);
    st.bind(5, ip);
    st.bind(6, std::string(utf8_prefix(user_agent, 256)));
    st.exec();
}

std::optional<user_row> sqlite_store::session_user(const std::string& token_hash, std::int64_t now) {
    stmt st = prepare(std::string("SELECT ") + user_columns +
        " FROM users WHERE id = (SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?)");
    st.bind(1, token_hash);
    st.bind(2, now);
    if (!st.executeStep()) return std::nullopt;
    return read_user(st);
}

void sqlite_store::delete_session(const std::string& token_hash) {
    stmt st = prepare("DELETE FROM sessions WHERE token_hash = ?");
    st.bind(1, token_hash);
    st.exec();
}

int sqlite_store::purge_sessions(std::int64_t now) {
    stmt st = prepare("DELETE FROM sessions WHERE expires_at <= ?");
    st.bind(1, now);
    return st.exec();
}

}  // namespace chatd::store
