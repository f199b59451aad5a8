// Users, operators' grants, the ledger, invites and sessions.
#include "store/postgres/postgres_store.hpp"

#include <cstdint>
#include <cstdlib>
#include <ctime>

#include "store/dates.hpp"
#include "store/paging.hpp"
#include "store/postgres/values.hpp"
#include "util/app_error.hpp"
#include "util/random.hpp"
#include "util/text.hpp"

namespace chatd::store {

using pg::flag;
using pg::i64;
using pg::opt_i64;
using pg::p;
using pg::str;
using pg::text_or_null;

namespace {

constexpr const char* user_columns =
    "id, username, password_hash, name, avatar, is_admin, banned, theme, invite_code, "
    "trial_credits, paid_credits, paid_expires_at, created_at, invited_by, wechat_openid, wechat_unionid, api_enabled, show_api_history";

user_row read_user(const pg::result& r, int row) {
    user_row u;
    u.id = i64(r, row, 0);
    if (!r.is_null(row, 1)) u.username = str(r, row, 1);
    u.password_hash = str(r, row, 2);
    u.name = str(r, row, 3);
    if (!r.is_null(row, 4)) u.avatar = str(r, row, 4);
    u.is_admin = flag(r, row, 5);
    u.banned = flag(r, row, 6);
    u.theme = str(r, row, 7);
    u.invite_code = str(r, row, 8);
    u.balance.trial = i64(r, row, 9);
    u.balance.paid = i64(r, row, 10);
    u.balance.paid_expires_at = opt_i64(r, row, 11);
    u.created_at = i64(r, row, 12);
    u.invited_by = opt_i64(r, row, 13);
    if (!r.is_null(row, 14)) u.wechat_openid = str(r, row, 14);
    if (!r.is_null(row, 15)) u.wechat_unionid = str(r, row, 15);
    u.api_enabled = flag(r, row, 16);
    u.show_api_history = flag(r, row, 17);
    return u;
}

std::optional<user_row> first_user(const pg::result& r) {
    if (r.rows() == 0) return std::nullopt;
    return read_user(r, 0);
}

}  // namespace

void postgres_store::append_ledger(id_t user, std::int64_t now, std::int64_t d_trial, std::int64_t d_paid,
                                   const std::string& reason, const std::string& ref) {
    db_.exec("INSERT INTO ledger (user_id, at, delta_trial, delta_paid, reason, ref) VALUES ($1,$2,$3,$4,$5,$6)",
             {p(user), p(now), p(d_trial), p(d_paid), p(reason), text_or_null(ref)});
}

user_row postgres_store::create_password_user(const std::string& username, const std::string& password_hash,
                                              bool is_admin, std::int64_t now) {
    pg::transaction t(db_);
    // Looked up first so that a taken name burns no id; the unique index on lower(username)
    // still decides when two instances take one name at once: the loser inserts nothing.
    if (db_.exec("SELECT 1 FROM users WHERE lower(username) = lower($1)", {p(username)}).rows() > 0)
        throw app_error("username_taken", "username is taken");
    auto r = db_.exec(
        "INSERT INTO users (username, password_hash, name, is_admin, invite_code, created_at) "
        "VALUES ($1,$2,$1,$3,$4,$5) ON CONFLICT ((lower(username))) DO NOTHING RETURNING id",
        {p(username), p(password_hash), p(is_admin), p(random_base32(8)), p(now)});
    if (r.rows() == 0) throw app_error("username_taken", "username is taken");
    id_t id = i64(r, 0, 0);
    // The dashboard counts visitors: an operator's own account is not one.
    if (!is_admin) count_day(now, day_counter::new_users, 1);
    t.commit();
    return *user_by_id(id);
}

user_row postgres_store::create_wechat_user(const std::string& openid, const std::optional<std::string>& unionid,
                                            std::int64_t now) {
    pg::transaction t(db_);
    // Looked up first so that a known openid burns no id; the openid is unique, so of two
    // instances signing one user up at once the loser inserts nothing.
    if (user_by_openid(openid)) throw app_error("openid_taken", "a user with this openid exists");
    auto r = db_.exec(
        "INSERT INTO users (wechat_openid, wechat_unionid, name, invite_code, created_at) VALUES ($1,$2,'',$3,$4) "
        "ON CONFLICT (wechat_openid) DO NOTHING RETURNING id",
        {p(openid), p(unionid), p(random_base32(8)), p(now)});
    if (r.rows() == 0) throw app_error("openid_taken", "a user with this openid exists");
    id_t id = i64(r, 0, 0);
    // WeChat shares no nickname with the account any more; the user may rename themselves.
    db_.exec("UPDATE users SET name = $1 WHERE id = $2", {p("微信用户" + std::to_string(id)), p(id)});
    count_day(now, day_counter::new_users, 1);
    t.commit();
    return *user_by_id(id);
}

std::optional<user_row> postgres_store::user_by_openid(const std::string& openid) {
    return first_user(
        db_.exec(std::string("SELECT ") + user_columns + " FROM users WHERE wechat_openid = $1", {p(openid)}));
}

void postgres_store::set_unionid(id_t user_id, const std::string& unionid) {
    db_.exec("UPDATE users SET wechat_unionid = $1 WHERE id = $2", {p(unionid), p(user_id)});
}

std::vector<user_row> postgres_store::users(const std::string& query, const page_cursor& page,
                                            std::optional<std::string>& next) {
    // Newest first by id; the query matches the id, the WeChat openid, the username or the name
    // (ILIKE: SQLite's LIKE ignores ASCII case).
    std::int64_t before = INT64_MAX;
    if (page.after) before = std::strtoll(page.after->c_str(), nullptr, 10);
    std::string sql = std::string("SELECT ") + user_columns + " FROM users WHERE id < $1";
    std::vector<pg::param> params{p(before)};
    if (!query.empty()) {
        sql += " AND (id::text = $2 OR wechat_openid = $2 OR username ILIKE $3 ESCAPE '\\' "
               "OR name ILIKE $3 ESCAPE '\\')";
        params.push_back(p(query));
        params.push_back(p(like_pattern(query)));
    }
    sql += " ORDER BY id DESC LIMIT $" + std::to_string(params.size() + 1);
    params.push_back(p(page.limit + 1));
    auto r = db_.exec(sql, params);
    std::vector<user_row> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_user(r, i));
    finish_page(out, page.limit, next, [](const auto& u) { return std::to_string(u.id); });
    return out;
}

// The users' personal API keys: the key itself is never stored, only its hash.
id_t postgres_store::add_api_key(const api_key_row& key, const std::string& key_hash, int most) {
    pg::transaction t(db_);
    // The owner's row locked: two instances cannot both add the last key allowed.
    db_.exec("SELECT 1 FROM users WHERE id = $1 FOR UPDATE", {p(key.user_id)});
    auto count = db_.exec("SELECT count(*) FROM user_api_keys WHERE user_id = $1 AND revoked_at IS NULL", {p(key.user_id)});
    if (i64(count, 0, 0) >= most)
        throw app_error("invalid_params", "最多 " + std::to_string(most) + " 个 API 密钥，请先删除一个 (at most " +
                                              std::to_string(most) + " API keys: revoke one first)");
    auto r = db_.exec(
        "INSERT INTO user_api_keys (user_id, name, key_hash, shown_prefix, shown_suffix, created_at) "
        "VALUES ($1,$2,$3,$4,$5,$6) RETURNING id",
        {p(key.user_id), p(key.name), p(key_hash), p(key.shown_prefix), p(key.shown_suffix), p(key.created_at)});
    id_t id = i64(r, 0, 0);
    t.commit();
    return id;
}

std::vector<api_key_row> postgres_store::api_keys(id_t user_id) {
    auto r = db_.exec(
        "SELECT id, user_id, name, shown_prefix, shown_suffix, created_at, last_used_at FROM user_api_keys "
        "WHERE user_id = $1 AND revoked_at IS NULL ORDER BY id",
        {p(user_id)});
    std::vector<api_key_row> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({i64(r, i, 0), i64(r, i, 1), str(r, i, 2), str(r, i, 3), str(r, i, 4), i64(r, i, 5),
                       opt_i64(r, i, 6)});
    return out;
}

bool postgres_store::revoke_api_key(id_t user_id, id_t key_id, std::int64_t now) {
    auto r = db_.exec("UPDATE user_api_keys SET revoked_at = $1 WHERE id = $2 AND user_id = $3 AND revoked_at IS NULL",
                      {p(now), p(key_id), p(user_id)});
    return r.affected() > 0;
}

std::optional<api_caller> postgres_store::find_api_key(const std::string& key_hash) {
    auto r = db_.exec("SELECT id, user_id, name, last_used_at FROM user_api_keys WHERE key_hash = $1 AND revoked_at IS NULL",
                      {p(key_hash)});
    if (r.rows() == 0) return std::nullopt;
    api_caller out;
    out.key_id = i64(r, 0, 0);
    out.key_name = str(r, 0, 2);
    out.last_used_at = opt_i64(r, 0, 3);
    auto user = user_by_id(i64(r, 0, 1));
    if (!user) return std::nullopt;
    out.user = std::move(*user);
    return out;
}

void postgres_store::note_api_key_used(id_t key_id, std::int64_t now) {
    db_.exec("UPDATE user_api_keys SET last_used_at = GREATEST(COALESCE(last_used_at, 0), $2::bigint) WHERE id = $1",
             {p(key_id), p(now)});
}

bool postgres_store::set_api_enabled(id_t user_id, bool enabled) {
    return db_.exec("UPDATE users SET api_enabled = $1 WHERE id = $2", {p(enabled), p(user_id)}).affected() > 0;
}

void postgres_store::set_banned(id_t user_id, bool banned) {
    auto r = db_.exec("UPDATE users SET banned = $1 WHERE id = $2", {p(banned), p(user_id)});
    if (r.affected() == 0) throw app_error("not_found", "no such user");
    if (banned) db_.exec("DELETE FROM sessions WHERE user_id = $1", {p(user_id)});
}

void postgres_store::atomically(const std::function<void()>& work) {
    pg::transaction t(db_);
    work();
    t.commit();
}

void postgres_store::set_balance(id_t user_id, const balance& b) {
    auto r = db_.exec("UPDATE users SET trial_credits = $1, paid_credits = $2, paid_expires_at = $3 WHERE id = $4",
                      {p(b.trial), p(b.paid), p(b.paid_expires_at), p(user_id)});
    if (r.affected() == 0) throw app_error("not_found", "no such user");
}

std::optional<id_t> postgres_store::user_by_invite_code(const std::string& code) {
    auto r = db_.exec("SELECT id FROM users WHERE invite_code = $1", {p(code)});
    if (r.rows() == 0) return std::nullopt;
    return i64(r, 0, 0);
}

void postgres_store::set_inviter(id_t user_id, id_t inviter_id) {
    db_.exec("UPDATE users SET invited_by = $1 WHERE id = $2", {p(inviter_id), p(user_id)});
}

std::optional<id_t> postgres_store::inviter_of(id_t user_id) {
    auto r = db_.exec("SELECT invited_by FROM users WHERE id = $1", {p(user_id)});
    if (r.rows() == 0) return std::nullopt;
    return opt_i64(r, 0, 0);
}

std::vector<ledger_row> postgres_store::ledger(id_t user_id, const page_cursor& page,
                                               std::optional<std::string>& next) {
    std::int64_t before = page.after ? std::strtoll(page.after->c_str(), nullptr, 10) : INT64_MAX;
    auto r = db_.exec(
        "SELECT id, at, delta_trial, delta_paid, reason, ref FROM ledger WHERE user_id = $1 AND id < $2 "
        "ORDER BY id DESC LIMIT $3",
        {p(user_id), p(before), p(page.limit + 1)});
    std::vector<ledger_row> out;
    for (int i = 0; i < r.rows(); ++i)
        out.push_back({i64(r, i, 0), i64(r, i, 1), i64(r, i, 2), i64(r, i, 3), str(r, i, 4), str(r, i, 5)});
    finish_page(out, page.limit, next, [](const auto& l) { return std::to_string(l.id); });
    return out;
}

postgres_store::invite_stats postgres_store::invites(id_t user_id) {
    invite_stats s;
    auto a = db_.exec("SELECT count(*) FROM users WHERE invited_by = $1", {p(user_id)});
    if (a.rows() > 0) s.invited = i64(a, 0, 0);
    // sum() of BIGINT is NUMERIC in PostgreSQL: back to an integer.
    auto b = db_.exec(
        "SELECT COALESCE(sum(delta_trial), 0)::bigint FROM ledger WHERE user_id = $1 AND reason LIKE 'referral_%'",
        {p(user_id)});
    if (b.rows() > 0) s.rewarded = i64(b, 0, 0);
    return s;
}

std::optional<user_row> postgres_store::user_by_username(const std::string& username) {
    // Usernames ignore case, as SQLite's COLLATE NOCASE column; lower() matches the unique index.
    return first_user(db_.exec(
        std::string("SELECT ") + user_columns + " FROM users WHERE lower(username) = lower($1)", {p(username)}));
}

std::optional<user_row> postgres_store::user_by_id(id_t id) {
    return first_user(db_.exec(std::string("SELECT ") + user_columns + " FROM users WHERE id = $1", {p(id)}));
}

void postgres_store::update_user(id_t id, const profile_change& change) {
    std::optional<std::int64_t> show = change.show_api_history;
    db_.exec("UPDATE users SET name = COALESCE($1::text, name), theme = COALESCE($2::text, theme), "
             "show_api_history = COALESCE($3::bigint, show_api_history) WHERE id = $4",
             {p(change.name), p(change.theme), p(show), p(id)});
}

balance postgres_store::balance_of(id_t user_id) {
    // Billing reads a balance to write a new one: the row lock holds off other instances until
    // this transaction ends, so no credit or charge is lost between the read and set_balance.
    auto r = db_.exec("SELECT trial_credits, paid_credits, paid_expires_at FROM users WHERE id = $1 FOR UPDATE",
                      {p(user_id)});
    if (r.rows() == 0) throw app_error("not_found", "no such user");
    return balance{i64(r, 0, 0), i64(r, 0, 1), opt_i64(r, 0, 2)};
}

card_claim postgres_store::claim_card(const std::string& code, id_t user_id, std::int64_t now) {
    // The claim itself, conditioned on the card being unused: of instances racing on one card,
    // exactly one moves it to used; the others find it used once the winner commits.
    auto claim = db_.exec(
        "UPDATE cards SET status = 'used', redeemed_by = $1, redeemed_at = $2 "
        "WHERE code = $3 AND status = 'unused' AND (redeem_before IS NULL OR redeem_before > $2) "
        "RETURNING questions, days",
        {p(user_id), p(now), p(code)});
    if (claim.rows() == 1) return card_claim{i64(claim, 0, 0), i64(claim, 0, 1)};
    // Nothing claimed: say why, in the SQLite store's order (status before expiry).
    auto c = db_.exec("SELECT status, redeem_before FROM cards WHERE code = $1", {p(code)});
    if (c.rows() == 0) throw app_error("card_invalid", "充值卡无效 (no such card)");
    std::string status = str(c, 0, 0);
    auto redeem_before = opt_i64(c, 0, 1);
    if (status == "revoked") throw app_error("card_revoked", "充值卡已作废 (this card was revoked)");
    if (status == "unused" && redeem_before && *redeem_before <= now)
        throw app_error("card_expired", "充值卡已过期 (this card has expired)");
    throw app_error("card_used", "充值卡已被使用 (this card was already redeemed)");
}

void postgres_store::count_sale(std::int64_t at, std::int64_t questions) {
    count_day(at, day_counter::redemptions, 1);
    count_day(at, day_counter::credits_sold, questions);
}

std::optional<order_claim> postgres_store::claim_order(const std::string& order_no, const std::string& trade_no,
                                                       std::int64_t now) {
    // The claim itself, conditioned on the order not being paid: of instances racing on one
    // order (a notification and a query at once), exactly one credits it.
    auto claim = db_.exec(
        "UPDATE orders SET status = 'paid', paid_at = $1, closed_at = NULL, trade_no = coalesce($2::text, trade_no) "
        "WHERE order_no = $3 AND status != 'paid' RETURNING user_id, questions, days, amount_cents",
        {p(now), text_or_null(trade_no), p(order_no)});
    if (claim.rows() == 1)
        return order_claim{i64(claim, 0, 0), i64(claim, 0, 1), i64(claim, 0, 2), i64(claim, 0, 3)};
    auto known = db_.exec("SELECT 1 FROM orders WHERE order_no = $1", {p(order_no)});
    if (known.rows() == 0) throw app_error("not_found", "no such order");
    return std::nullopt;
}

void postgres_store::count_paid_order(std::int64_t at, std::int64_t questions, std::int64_t cents) {
    db_.exec(
        "INSERT INTO daily_stats (date, orders, paid_cents, credits_sold) VALUES ($1, 1, $2, $3) "
        "ON CONFLICT (date) DO UPDATE SET orders = daily_stats.orders + 1, "
        "paid_cents = daily_stats.paid_cents + excluded.paid_cents, "
        "credits_sold = daily_stats.credits_sold + excluded.credits_sold",
        {p(local_date(at)), p(cents), p(questions)});
}

void postgres_store::create_session(const std::string& token_hash, id_t user_id, std::int64_t now,
                                    std::int64_t expires_at, const std::string& ip,
                                    const std::string& user_agent) {
    db_.exec(
        "INSERT INTO sessions (token_hash, user_id, created_at, expires_at, ip, user_agent) "
        "VALUES ($1,$2,$3,$4,$5,$6)",
        {p(token_hash), p(user_id), p(now), p(expires_at), p(ip), p(std::string(utf8_prefix(user_agent, 256)))});
}

std::optional<user_row> postgres_store::session_user(const std::string& token_hash, std::int64_t now) {
    return first_user(db_.exec(
        std::string("SELECT ") + user_columns +
            " FROM users WHERE id = (SELECT user_id FROM sessions WHERE token_hash = $1 AND expires_at > $2)",
        {p(token_hash), p(now)}));
}

void postgres_store::delete_session(const std::string& token_hash) {
    db_.exec("DELETE FROM sessions WHERE token_hash = $1", {p(token_hash)});
}

int postgres_store::purge_sessions(std::int64_t now) {
    return static_cast<int>(db_.exec("DELETE FROM sessions WHERE expires_at <= $1", {p(now)}).affected());
}

}  // namespace chatd::store
