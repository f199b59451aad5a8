// WeChat login state that instances on one database share: every step that must happen once
// (a confirmed login handed out, a code spent, a push handled) is one conditional statement,
// so two instances racing for it cannot both win.
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/values.hpp"

namespace chatd::store {

using namespace pg;

namespace {

constexpr const char* login_columns = "ticket, scene, browser, invite, openid, qr_url, expires_at";

wechat_login_row login_of(const result& r, int row) {
    return {str(r, row, 0), str(r, row, 1), str(r, row, 2), str(r, row, 3),
            str(r, row, 4), str(r, row, 5), i64(r, row, 6)};
}

// Serialises the wrong-code budget across instances: counting the window and taking a slot
// must be one step, or a burst spread over instances would get past it.
constexpr const char* guess_lock = "SELECT pg_advisory_xact_lock(hashtext('chatd.wechat_code_guesses'))";

}  // namespace

std::optional<wechat_login_row> postgres_store::reuse_wechat_login(const std::string& browser,
                                                                   const std::string& invite,
                                                                   std::int64_t min_expires_at) {
    auto r = db_.exec(std::string("UPDATE wechat_logins SET invite = $2 "
                                  "WHERE browser = $1 AND openid = '' AND expires_at > $3 RETURNING ") +
                          login_columns,
                      {p(browser), p(invite), p(min_expires_at)});
    if (r.rows() == 0) return std::nullopt;
    return login_of(r, 0);
}

bool postgres_store::add_wechat_login(const wechat_login_row& row, std::int64_t now, std::int64_t capacity) {
    transaction t(db_);
    db_.exec("DELETE FROM wechat_logins WHERE expires_at <= $1", {p(now)});
    if (i64(db_.exec("SELECT count(*) FROM wechat_logins", {}), 0, 0) >= capacity) return false;
    // The browser's previous login is replaced: only its newest code can log it in.
    db_.exec("INSERT INTO wechat_logins (ticket, scene, browser, invite, openid, qr_url, expires_at) "
             "VALUES ($1, $2, $3, $4, '', $5, $6) ON CONFLICT (browser) DO UPDATE SET "
             "ticket = excluded.ticket, scene = excluded.scene, invite = excluded.invite, openid = '', "
             "qr_url = excluded.qr_url, expires_at = excluded.expires_at",
             {p(row.ticket), p(row.scene), p(row.browser), p(row.invite), p(row.qr_url), p(row.expires_at)});
    t.commit();
    return true;
}

wechat_scan postgres_store::bind_wechat_login(const std::string& scene, const std::string& ticket,
                                              const std::string& openid, std::int64_t now) {
    auto bound = db_.exec("UPDATE wechat_logins SET openid = $3 WHERE scene = $1 AND ($2 = '' OR ticket = $2) "
                          "AND expires_at > $4 AND openid IN ('', $3) RETURNING ticket",
                          {p(scene), p(ticket), p(openid), p(now)});
    if (bound.rows() > 0) return wechat_scan::bound;
    auto r = db_.exec("SELECT openid FROM wechat_logins WHERE scene = $1 AND ($2 = '' OR ticket = $2) "
                      "AND expires_at > $3",
                      {p(scene), p(ticket), p(now)});
    return r.rows() > 0 && !str(r, 0, 0).empty() ? wechat_scan::taken : wechat_scan::expired;
}

std::optional<wechat_login_row> postgres_store::take_wechat_login(const std::string& ticket,
                                                                  const std::string& browser, std::int64_t now) {
    // A DELETE racing another poll or the scan waits for it and then re-checks its condition:
    // exactly one poll gets a scanned login.
    auto taken = db_.exec(std::string("DELETE FROM wechat_logins WHERE ticket = $1 AND browser = $2 "
                                      "AND (openid <> '' OR expires_at <= $3) RETURNING ") +
                              login_columns,
                          {p(ticket), p(browser), p(now)});
    if (taken.rows() > 0) return login_of(taken, 0);
    auto r = db_.exec(std::string("SELECT ") + login_columns + " FROM wechat_logins WHERE ticket = $1 AND browser = $2",
                      {p(ticket), p(browser)});
    if (r.rows() == 0) return std::nullopt;
    // Still pending as far as this poll knows, even if a scan landed since the DELETE: only
    // the DELETE hands a login out.
    auto row = login_of(r, 0);
    row.openid.clear();
    row.expires_at = std::max(row.expires_at, now + 1);
    return row;
}

wechat_code_added postgres_store::add_wechat_code(const std::string& code_hash, const std::string& openid,
                                                  std::int64_t expires_at, std::int64_t now, std::int64_t capacity) {
    transaction t(db_);
    db_.exec("DELETE FROM wechat_codes WHERE expires_at <= $1", {p(now)});
    if (i64(db_.exec("SELECT count(*) FROM wechat_codes", {}), 0, 0) >= capacity) return wechat_code_added::full;
    auto r = db_.exec("INSERT INTO wechat_codes (code_hash, openid, expires_at) VALUES ($1, $2, $3) "
                      "ON CONFLICT (code_hash) DO NOTHING",
                      {p(code_hash), p(openid), p(expires_at)});
    if (r.affected() == 0) return wechat_code_added::clash;
    t.commit();
    return wechat_code_added::added;
}

wechat_code_attempt postgres_store::redeem_wechat_code(const std::string& code_hash, std::int64_t now_ms,
                                                       std::int64_t window_ms, int budget) {
    transaction t(db_);
    db_.exec(guess_lock);
    db_.exec("DELETE FROM wechat_code_guesses WHERE at_ms <= $1", {p(now_ms - window_ms)});
    wechat_code_attempt attempt;
    if (i64(db_.exec("SELECT count(*) FROM wechat_code_guesses", {}), 0, 0) >= budget) {
        attempt.refused = true;
    } else {
        auto r = db_.exec("DELETE FROM wechat_codes WHERE code_hash = $1 RETURNING openid, expires_at", {p(code_hash)});
        if (r.rows() > 0 && i64(r, 0, 1) > now_ms / 1000) attempt.openid = str(r, 0, 0);
        else db_.exec("INSERT INTO wechat_code_guesses (at_ms) VALUES ($1)", {p(now_ms)});
    }
    t.commit();
    return attempt;
}

wechat_push_admission postgres_store::admit_wechat_push(const std::string& signature, const std::string& message,
                                                        std::int64_t now, std::int64_t keep_s) {
    transaction t(db_);
    db_.exec("DELETE FROM wechat_push_signatures WHERE first_seen <= $1", {p(now - keep_s)});
    db_.exec("DELETE FROM wechat_push_messages WHERE last_seen <= $1", {p(now - keep_s)});
    db_.exec("INSERT INTO wechat_push_signatures (signature, message, first_seen) VALUES ($1, $2, $3) "
             "ON CONFLICT (signature) DO NOTHING",
             {p(signature), p(message), p(now)});
    if (str(db_.exec("SELECT message FROM wechat_push_signatures WHERE signature = $1", {p(signature)}), 0, 0) !=
        message) {
        t.commit();
        return {wechat_push_admission::verdict::reused, ""};
    }
    // Exactly one delivery inserts the message; the others, on any instance, are retries.
    auto first = db_.exec("INSERT INTO wechat_push_messages (message, reply, last_seen) VALUES ($1, '', $2) "
                          "ON CONFLICT (message) DO NOTHING",
                          {p(message), p(now)});
    wechat_push_admission admission;
    if (first.affected() == 0) {
        auto r = db_.exec("UPDATE wechat_push_messages SET last_seen = $2 WHERE message = $1 RETURNING reply",
                          {p(message), p(now)});
        admission = {wechat_push_admission::verdict::retry, r.rows() > 0 ? str(r, 0, 0) : ""};
    }
    t.commit();
    return admission;
}

void postgres_store::answer_wechat_push(const std::string& message, const std::string& reply) {
    db_.exec("UPDATE wechat_push_messages SET reply = $2 WHERE message = $1", {p(message), p(reply)});
}

void postgres_store::forget_wechat_push(const std::string& message) {
    db_.exec("DELETE FROM wechat_push_messages WHERE message = $1", {p(message)});
}

wechat_token_row postgres_store::wechat_token(const std::string& account) {
    auto r = db_.exec("SELECT token, valid_until, rejected, last_forced FROM wechat_tokens WHERE account = $1",
                      {p(account)});
    if (r.rows() == 0) return {};
    return {str(r, 0, 0), i64(r, 0, 1), str(r, 0, 2), i64(r, 0, 3)};
}

std::optional<wechat_token_row> postgres_store::lease_wechat_token(const std::string& account, std::int64_t now,
                                                                   std::int64_t lease_until) {
    db_.exec("INSERT INTO wechat_tokens (account) VALUES ($1) ON CONFLICT (account) DO NOTHING", {p(account)});
    // Not while a valid token is there: another call may have saved one since the caller looked.
    auto r = db_.exec("UPDATE wechat_tokens SET refreshing_until = $3 WHERE account = $1 AND refreshing_until <= $2 "
                      "AND NOT (token <> '' AND valid_until > $2) RETURNING token, valid_until, rejected, last_forced",
                      {p(account), p(now), p(lease_until)});
    if (r.rows() == 0) return std::nullopt;
    return wechat_token_row{str(r, 0, 0), i64(r, 0, 1), str(r, 0, 2), i64(r, 0, 3)};
}

void postgres_store::save_wechat_token(const std::string& account, const std::string& token,
                                       std::int64_t valid_until, std::optional<std::int64_t> forced_at) {
    db_.exec("UPDATE wechat_tokens SET token = $2, valid_until = $3, refreshing_until = 0, "
             "rejected = CASE WHEN rejected = $2 THEN rejected ELSE '' END, "
             "last_forced = COALESCE($4::bigint, last_forced) WHERE account = $1",
             {p(account), p(token), p(valid_until), p(forced_at)});
}

void postgres_store::release_wechat_token(const std::string& account) {
    db_.exec("UPDATE wechat_tokens SET refreshing_until = 0 WHERE account = $1", {p(account)});
}

void postgres_store::reject_wechat_token(const std::string& account, const std::string& token) {
    db_.exec("UPDATE wechat_tokens SET rejected = $2, token = CASE WHEN token = $2 THEN '' ELSE token END "
             "WHERE account = $1",
             {p(account), p(token)});
}

}  // namespace chatd::store
