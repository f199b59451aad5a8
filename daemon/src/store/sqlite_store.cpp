#include <SQLiteCpp/Backup.h>
#include <SQLiteCpp/Statement.h>

#include <algorithm>
#include <cmath>
#include <ctime>
#include <map>
#include <set>
#include <boost/json.hpp>
#include <filesystem>

#include "billing/cards.hpp"
#include "store/migrations.hpp"
#include "store/store.hpp"
#include "store/text_search.hpp"
#include "util/random.hpp"
#include "util/text.hpp"

namespace chatd::store {
namespace json = boost::json;

namespace {

void bind_opt(SQLite::Statement& st, int i, const std::optional<std::int64_t>& v) {
    if (v) st.bind(i, *v); else st.bind(i);
}
void bind_opt(SQLite::Statement& st, int i, const std::optional<int>& v) {
    if (v) st.bind(i, *v); else st.bind(i);
}
void bind_text_or_null(SQLite::Statement& st, int i, const std::string& v) {
    if (v.empty()) st.bind(i); else st.bind(i, v);
}
std::optional<std::int64_t> opt_i64(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getInt64();
}
std::optional<int> opt_int(const SQLite::Column& c) {
    if (c.isNull()) return std::nullopt;
    return c.getInt();
}
std::string text(const SQLite::Column& c) { return c.isNull() ? std::string() : c.getString(); }

// YYYY-MM-DD in the server's local time, as the dashboard's days are.
std::string local_date(std::int64_t at) {
    std::time_t t = static_cast<std::time_t>(at);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

// Latency histogram buckets about 5 % wide (migration 007 computes the same in SQL).
int latency_bucket(std::int64_t ms) {
    return static_cast<int>(std::llround(std::log1p(static_cast<double>(std::max<std::int64_t>(ms, 0))) * 20));
}
std::int64_t latency_of_bucket(int bucket) { return std::llround(std::expm1(bucket / 20.0)); }

constexpr const char* user_columns =
    "id, username, password_hash, name, avatar, is_admin, banned, theme, invite_code, "
    "trial_credits, paid_credits, paid_expires_at, created_at, invited_by, wechat_openid, wechat_unionid";

constexpr const char* message_columns =
    "m.id, m.conversation_id, m.parent_id, m.role, m.content, m.status, m.model, m.charge_trial, "
    "m.charge_paid, m.refunded, m.free_reason, m.error_reason, m.error_message, m.prompt_tokens, "
    "m.completion_tokens, m.first_token_ms, m.total_ms, m.created_at, m.finished_at, c.user_id";

message_row read_message(SQLite::Statement& st) {
    message_row m;
    m.id = st.getColumn(0).getInt64();
    m.conversation_id = st.getColumn(1).getInt64();
    m.parent_id = opt_i64(st.getColumn(2));
    m.role = st.getColumn(3).getString();
    m.content = st.getColumn(4).getString();
    m.status = st.getColumn(5).getString();
    m.model = text(st.getColumn(6));
    m.charge_trial = st.getColumn(7).getInt64();
    m.charge_paid = st.getColumn(8).getInt64();
    m.refunded = st.getColumn(9).getInt() != 0;
    m.free_reason = text(st.getColumn(10));
    m.error_reason = text(st.getColumn(11));
    m.error_message = text(st.getColumn(12));
    m.prompt_tokens = opt_int(st.getColumn(13));
    m.completion_tokens = opt_int(st.getColumn(14));
    m.first_token_ms = opt_i64(st.getColumn(15));
    m.total_ms = opt_i64(st.getColumn(16));
    m.created_at = st.getColumn(17).getInt64();
    m.finished_at = opt_i64(st.getColumn(18));
    m.user_id = st.getColumn(19).getInt64();
    return m;
}

constexpr const char* conversation_columns =
    "c.id, c.user_id, c.title, c.model, c.role_id, c.system_prompt, c.pinned, c.current_leaf_id, "
    "c.created_at, c.updated_at, c.deleted_at, u.name";

conversation_row read_conversation(SQLite::Statement& st) {
    conversation_row c;
    c.id = st.getColumn(0).getInt64();
    c.user_id = st.getColumn(1).getInt64();
    c.title = st.getColumn(2).getString();
    c.model = st.getColumn(3).getString();
    c.role_id = opt_i64(st.getColumn(4));
    c.system_prompt = text(st.getColumn(5));
    c.pinned = st.getColumn(6).getInt() != 0;
    c.current_leaf_id = opt_i64(st.getColumn(7));
    c.created_at = st.getColumn(8).getInt64();
    c.updated_at = st.getColumn(9).getInt64();
    c.deleted_at = opt_i64(st.getColumn(10));
    c.username = text(st.getColumn(11));
    return c;
}

std::string title_from(const std::string& content) {
    std::string t = trim(content);
    for (auto& ch : t)
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    auto p = utf8_prefix(t, 90);
    std::string out(p);
    if (utf8_length(out) > 30) {
        std::size_t chars = 0, i = 0;
        for (; i < out.size(); ++i) {
            if ((static_cast<unsigned char>(out[i]) & 0xC0) != 0x80 && ++chars > 30) break;
        }
        out = out.substr(0, i) + "…";
    } else if (p.size() < t.size()) {
        out += "…";
    }
    return out;
}

// A transaction that nests: at top level SAVEPOINT begins one and RELEASE commits it; inside
// the database thread's batch (see database.hpp) it is a nested part that can roll back alone.
class savepoint {
public:
    explicit savepoint(SQLite::Database& db) : db_(db) { db_.exec("SAVEPOINT store_tx"); }
    ~savepoint() {
        if (done_) return;
        try {
            db_.exec("ROLLBACK TO store_tx");
            db_.exec("RELEASE store_tx");
        } catch (const std::exception&) {
            // The enclosing batch, if any, rolls back as a whole.
        }
    }
    void commit() {
        db_.exec("RELEASE store_tx");
        done_ = true;
    }

private:
    SQLite::Database& db_;
    bool done_ = false;
};

// Pages fetch one row more than asked: its presence means there is a next page, whose cursor
// is the key of the last row kept.
template <class Row, class Key>
void finish_page(std::vector<Row>& rows, int limit, std::optional<std::string>& next, Key key) {
    next.reset();
    if (static_cast<int>(rows.size()) <= limit) return;
    rows.pop_back();
    next = key(rows.back());
}

std::string like_pattern(const std::string& q) {
    std::string out = "%";
    for (char c : q) {
        if (c == '%' || c == '_' || c == '\\') out += '\\';
        out += c;
    }
    return out + "%";
}

}  // namespace

store::store(const std::string& path, access mode)
    : db_(path, mode == access::read_only ? SQLite::OPEN_READONLY | SQLite::OPEN_FULLMUTEX
                                          : SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE | SQLite::OPEN_FULLMUTEX) {
    db_.setBusyTimeout(5000);
    register_search_tokenizer(db_.getHandle());
    if (mode == access::read_only) {
        db_.exec("PRAGMA query_only=ON");
        db_.exec("PRAGMA temp_store=MEMORY");
        db_.exec("PRAGMA cache_size=-32768");
        return;
    }
    db_.exec("PRAGMA journal_mode=WAL");
    // NORMAL in WAL mode: a power loss may lose the last commits but never corrupts.
    db_.exec("PRAGMA synchronous=NORMAL");
    db_.exec("PRAGMA foreign_keys=ON");
    db_.exec("PRAGMA temp_store=MEMORY");
    // 32 MiB of page cache (the default is 2 MiB): big batches and listings stay in memory.
    db_.exec("PRAGMA cache_size=-32768");
    // Checkpoints fsync; run inside a commit they stall the database thread for milliseconds.
    // database.hpp checkpoints from a thread of its own instead.
    db_.exec("PRAGMA wal_autocheckpoint=0");
    // After a burst of writes (the search backfill, a big card batch) the WAL file shrinks
    // back to this size once a checkpoint has caught up, instead of keeping its peak size.
    db_.exec("PRAGMA journal_size_limit=67108864");
}

store::~store() = default;

stmt store::prepare(const std::string& sql) {
    auto& slot = statements_[sql];
    if (!slot) slot = std::make_unique<SQLite::Statement>(db_, sql);
    return stmt(*slot);
}

int store::schema_version() { return db_.execAndGet("PRAGMA user_version").getInt(); }

void store::migrate() {
    int current = schema_version();
    for (const auto& m : migrations()) {
        if (m.version <= current) continue;
        savepoint t(db_);
        db_.exec(std::string(m.sql));
        db_.exec("PRAGMA user_version=" + std::to_string(m.version));
        t.commit();
    }
}

void store::add_ledger(id_t user, std::int64_t now, std::int64_t d_trial, std::int64_t d_paid,
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

user_row store::read_user(SQLite::Statement& st) {
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
    return u;
}

user_row store::create_password_user(const std::string& username, const std::string& password_hash,
                                     bool is_admin, std::int64_t trial, std::int64_t now,
                                     const std::string& invite, std::int64_t signup_reward) {
    savepoint t(db_);
    {
        stmt exists = prepare( "SELECT 1 FROM users WHERE username = ?");
        exists.bind(1, username);
        if (exists.executeStep()) throw store_error("username_taken", "username is taken");
    }
    stmt st = prepare(
        "INSERT INTO users (username, password_hash, name, is_admin, invite_code, trial_credits, created_at) "
        "VALUES (?,?,?,?,?,?,?)");
    st.bind(1, username);
    st.bind(2, password_hash);
    st.bind(3, username);
    st.bind(4, is_admin ? 1 : 0);
    st.bind(5, random_base32(8));
    st.bind(6, trial);
    st.bind(7, now);
    st.exec();
    id_t id = db_.getLastInsertRowid();
    welcome_user(id, trial, now, invite, signup_reward);
    t.commit();
    return *user_by_id(id);
}

user_row store::create_wechat_user(const std::string& openid, const std::optional<std::string>& unionid,
                                   std::int64_t trial, std::int64_t now, const std::string& invite,
                                   std::int64_t signup_reward) {
    savepoint t(db_);
    if (user_by_openid(openid)) throw store_error("openid_taken", "a user with this openid exists");
    stmt st = prepare(
        "INSERT INTO users (wechat_openid, wechat_unionid, name, invite_code, trial_credits, created_at) "
        "VALUES (?,?,?,?,?,?)");
    st.bind(1, openid);
    if (unionid) st.bind(2, *unionid);
    else st.bind(2);
    st.bind(3, "");
    st.bind(4, random_base32(8));
    st.bind(5, trial);
    st.bind(6, now);
    st.exec();
    id_t id = db_.getLastInsertRowid();
    // WeChat shares no nickname with the account any more; the user may rename themselves.
    stmt name = prepare("UPDATE users SET name = ? WHERE id = ?");
    name.bind(1, "微信用户" + std::to_string(id));
    name.bind(2, id);
    name.exec();
    welcome_user(id, trial, now, invite, signup_reward);
    t.commit();
    return *user_by_id(id);
}

// A new user's trial grant and, when invited, the link to the inviter and the inviter's reward.
void store::welcome_user(id_t id, std::int64_t trial, std::int64_t now, const std::string& invite,
                         std::int64_t signup_reward) {
    count_day(now, day_counter::new_users, 1);
    if (trial > 0) add_ledger(id, now, trial, 0, "trial_grant", "");
    if (invite.empty()) return;
    stmt inviter = prepare("SELECT id FROM users WHERE invite_code = ?");
    inviter.bind(1, invite);
    if (!inviter.executeStep()) return;
    id_t by = inviter.getColumn(0).getInt64();
    inviter.reset();
    stmt link = prepare("UPDATE users SET invited_by = ? WHERE id = ?");
    link.bind(1, by);
    link.bind(2, id);
    link.exec();
    if (signup_reward > 0) {
        stmt reward = prepare("UPDATE users SET trial_credits = trial_credits + ? WHERE id = ?");
        reward.bind(1, signup_reward);
        reward.bind(2, by);
        reward.exec();
        add_ledger(by, now, signup_reward, 0, "referral_signup", "user:" + std::to_string(id));
    }
}

std::optional<user_row> store::user_by_openid(const std::string& openid) {
    stmt st = prepare(std::string("SELECT ") + user_columns + " FROM users WHERE wechat_openid = ?");
    st.bind(1, openid);
    if (!st.executeStep()) return std::nullopt;
    return read_user(st);
}

void store::set_unionid(id_t user_id, const std::string& unionid) {
    stmt st = prepare("UPDATE users SET wechat_unionid = ? WHERE id = ?");
    st.bind(1, unionid);
    st.bind(2, user_id);
    st.exec();
}

std::vector<user_row> store::users(const std::string& query, const page_cursor& page, std::optional<std::string>& next) {
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

void store::set_banned(id_t user_id, bool banned) {
    stmt st = prepare("UPDATE users SET banned = ? WHERE id = ?");
    st.bind(1, banned ? 1 : 0);
    st.bind(2, user_id);
    if (st.exec() == 0) throw store_error("not_found", "no such user");
    if (banned) {
        stmt s2 = prepare("DELETE FROM sessions WHERE user_id = ?");
        s2.bind(1, user_id);
        s2.exec();
    }
}

billing::balance store::grant(id_t user_id, std::int64_t questions, std::optional<std::int64_t> days,
                              const std::string& bucket, const std::string& actor, std::int64_t now) {
    savepoint t(db_);
    auto u = user_by_id(user_id);
    if (!u) throw store_error("not_found", "no such user");
    auto b = u->balance;
    std::int64_t d_trial = 0, d_paid = 0, forfeited = 0;
    if (bucket == "trial") {
        if (b.trial + questions < 0) throw store_error("invalid_params", "the trial bucket would go below zero");
        b.trial += questions;
        d_trial = questions;
    } else if (days && questions >= 0) {
        auto r = billing::apply_card(b, questions, *days, now);
        forfeited = r.forfeited;
        b = r.after;
        d_paid = questions;
    } else {
        if (!b.paid_expires_at || *b.paid_expires_at <= now)
            throw store_error("invalid_params", "no valid paid credits: give days to grant paid questions");
        if (b.paid + questions < 0) throw store_error("invalid_params", "the paid bucket would go below zero");
        b.paid += questions;
        d_paid = questions;
    }
    stmt st = prepare("UPDATE users SET trial_credits = ?, paid_credits = ?, paid_expires_at = ? WHERE id = ?");
    st.bind(1, b.trial);
    st.bind(2, b.paid);
    bind_opt(st, 3, b.paid_expires_at);
    st.bind(4, user_id);
    st.exec();
    if (forfeited) add_ledger(user_id, now, 0, -forfeited, "paid_expired", actor);
    add_ledger(user_id, now, d_trial, d_paid, "grant", actor);
    t.commit();
    return b;
}

std::vector<ledger_row> store::ledger(id_t user_id, const page_cursor& page, std::optional<std::string>& next) {
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

store::invite_stats store::invites(id_t user_id) {
    invite_stats r;
    stmt a = prepare("SELECT count(*) FROM users WHERE invited_by = ?");
    a.bind(1, user_id);
    if (a.executeStep()) r.invited = a.getColumn(0).getInt64();
    stmt b = prepare("SELECT COALESCE(sum(delta_trial), 0) FROM ledger WHERE user_id = ? AND reason LIKE 'referral_%'");
    b.bind(1, user_id);
    if (b.executeStep()) r.rewarded = b.getColumn(0).getInt64();
    return r;
}

std::optional<user_row> store::user_by_username(const std::string& username) {
    stmt st = prepare( std::string("SELECT ") + user_columns + " FROM users WHERE username = ?");
    st.bind(1, username);
    if (!st.executeStep()) return std::nullopt;
    return read_user(st);
}

std::optional<user_row> store::user_by_id(id_t id) {
    stmt st = prepare( std::string("SELECT ") + user_columns + " FROM users WHERE id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return read_user(st);
}

void store::update_user(id_t id, const std::optional<std::string>& name,
                        const std::optional<std::string>& theme) {
    stmt st = prepare(
        "UPDATE users SET name = COALESCE(?, name), theme = COALESCE(?, theme) WHERE id = ?");
    if (name) st.bind(1, *name); else st.bind(1);
    if (theme) st.bind(2, *theme); else st.bind(2);
    st.bind(3, id);
    st.exec();
}

billing::balance store::balance_of(id_t user_id) {
    auto u = user_by_id(user_id);
    if (!u) throw store_error("not_found", "no such user");
    return u->balance;
}

void store::create_session(const std::string& token_hash, id_t user_id, std::int64_t now,
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

std::optional<user_row> store::session_user(const std::string& token_hash, std::int64_t now) {
    stmt st = prepare( std::string("SELECT ") + user_columns +
        " FROM users WHERE id = (SELECT user_id FROM sessions WHERE token_hash = ? AND expires_at > ?)");
    st.bind(1, token_hash);
    st.bind(2, now);
    if (!st.executeStep()) return std::nullopt;
    return read_user(st);
}

void store::delete_session(const std::string& token_hash) {
    stmt st = prepare( "DELETE FROM sessions WHERE token_hash = ?");
    st.bind(1, token_hash);
    st.exec();
}

int store::purge_sessions(std::int64_t now) {
    stmt st = prepare( "DELETE FROM sessions WHERE expires_at <= ?");
    st.bind(1, now);
    return st.exec();
}

std::vector<id_t> store::add_keys(const std::vector<std::string>& secrets, const std::string& base_url,
                                  const std::vector<std::string>& models, const std::string& note,
                                  const std::string& provider, std::int64_t now) {
    json::array m;
    for (auto& s : models) m.emplace_back(s);
    std::string models_json = json::serialize(m);
    savepoint t(db_);
    std::vector<id_t> ids;
    for (const auto& secret : secrets) {
        // A key added twice keeps its first row, so re-running an import is harmless.
        stmt find = prepare( "SELECT id FROM api_keys WHERE secret = ?");
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

std::vector<key_row> store::keys() {
    stmt st = prepare(
        "SELECT id, secret, base_url, models, note, provider, enabled, status, reason, cooldown_until, "
        "requests, failures, tokens_in, tokens_out, last_used_at, last_error, created_at FROM api_keys ORDER BY id");
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
        out.push_back(std::move(k));
    }
    return out;
}

bool store::remove_key(id_t id) {
    stmt st = prepare( "DELETE FROM api_keys WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

bool store::set_key_enabled(id_t id, bool enabled) {
    stmt st = prepare( "UPDATE api_keys SET enabled = ? WHERE id = ?");
    st.bind(1, enabled ? 1 : 0);
    st.bind(2, id);
    return st.exec() > 0;
}

void store::save_key_states(const std::vector<key_row>& rows) {
    if (rows.empty()) return;
    savepoint t(db_);
    stmt st = prepare(
        "UPDATE api_keys SET status=?, reason=?, cooldown_until=?, requests=?, failures=?, tokens_in=?, "
        "tokens_out=?, last_used_at=?, last_error=? WHERE id=?");
    for (const auto& k : rows) {
        st.reset();
        st.bind(1, k.status);
        bind_text_or_null(st, 2, k.reason);
        bind_opt(st, 3, k.cooldown_until);
        st.bind(4, k.requests);
        st.bind(5, k.failures);
        st.bind(6, k.tokens_in);
        st.bind(7, k.tokens_out);
        bind_opt(st, 8, k.last_used_at);
        bind_text_or_null(st, 9, k.last_error);
        st.bind(10, k.id);
        st.exec();
    }
    t.commit();
}

void store::add_key_events(const std::vector<key_event_row>& events) {
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

std::vector<key_event_row> store::key_events(id_t key_id, int limit) {
    stmt st = prepare("SELECT key_id, at, status, reason FROM key_events WHERE key_id = ? ORDER BY id DESC LIMIT ?");
    st.bind(1, key_id);
    st.bind(2, limit);
    std::vector<key_event_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getInt64(), st.getColumn(2).getString(),
                       text(st.getColumn(3))});
    return out;
}

std::vector<model_row> store::models() {
    stmt st = prepare(
        "SELECT id, name, upstream_model, cost, max_messages, max_context_chars, enabled, sort FROM models "
        "ORDER BY sort, id");
    std::vector<model_row> out;
    while (st.executeStep()) {
        model_row m;
        m.id = st.getColumn(0).getString();
        m.name = st.getColumn(1).getString();
        m.upstream_model = st.getColumn(2).getString();
        m.cost = st.getColumn(3).getInt();
        m.max_messages = st.getColumn(4).getInt();
        m.max_context_chars = st.getColumn(5).getInt();
        m.enabled = st.getColumn(6).getInt() != 0;
        m.sort = st.getColumn(7).getInt();
        out.push_back(std::move(m));
    }
    return out;
}

void store::upsert_model(const model_row& m) {
    stmt st = prepare(
        "INSERT INTO models (id, name, upstream_model, cost, max_messages, max_context_chars, enabled, sort) "
        "VALUES (?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
        "upstream_model=excluded.upstream_model, cost=excluded.cost, max_messages=excluded.max_messages, "
        "max_context_chars=excluded.max_context_chars, enabled=excluded.enabled, sort=excluded.sort");
    st.bind(1, m.id);
    st.bind(2, m.name);
    st.bind(3, m.upstream_model);
    st.bind(4, m.cost);
    st.bind(5, m.max_messages);
    st.bind(6, m.max_context_chars);
    st.bind(7, m.enabled ? 1 : 0);
    st.bind(8, m.sort);
    st.exec();
}

bool store::remove_model(const std::string& id) {
    stmt st = prepare( "DELETE FROM models WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

std::vector<role_row> store::roles() {
    stmt st = prepare("SELECT id, name, description, prompt, sort, enabled FROM roles ORDER BY sort, id");
    std::vector<role_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getString(),
                       st.getColumn(3).getString(), st.getColumn(4).getInt(), st.getColumn(5).getInt() != 0});
    return out;
}

std::optional<role_row> store::role(id_t id) {
    for (auto& r : roles())
        if (r.id == id) return r;
    return std::nullopt;
}

id_t store::upsert_role(const role_row& r) {
    if (r.id) {
        stmt st = prepare("UPDATE roles SET name=?, description=?, prompt=?, sort=?, enabled=? WHERE id=?");
        st.bind(1, r.name);
        st.bind(2, r.description);
        st.bind(3, r.prompt);
        st.bind(4, r.sort);
        st.bind(5, r.enabled ? 1 : 0);
        st.bind(6, r.id);
        if (st.exec() == 0) throw store_error("not_found", "no such role");
        return r.id;
    }
    stmt st = prepare("INSERT INTO roles (name, description, prompt, sort, enabled) VALUES (?,?,?,?,?)");
    st.bind(1, r.name);
    st.bind(2, r.description);
    st.bind(3, r.prompt);
    st.bind(4, r.sort);
    st.bind(5, r.enabled ? 1 : 0);
    st.exec();
    return db_.getLastInsertRowid();
}

bool store::remove_role(id_t id) {
    stmt st = prepare("DELETE FROM roles WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

std::vector<preset_row> store::presets() {
    stmt st = prepare("SELECT id, text, sort FROM presets ORDER BY sort, id");
    std::vector<preset_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getInt()});
    return out;
}

id_t store::upsert_preset(const preset_row& p) {
    if (p.id) {
        stmt st = prepare("UPDATE presets SET text=?, sort=? WHERE id=?");
        st.bind(1, p.text);
        st.bind(2, p.sort);
        st.bind(3, p.id);
        if (st.exec() == 0) throw store_error("not_found", "no such preset");
        return p.id;
    }
    stmt st = prepare("INSERT INTO presets (text, sort) VALUES (?,?)");
    st.bind(1, p.text);
    st.bind(2, p.sort);
    st.exec();
    return db_.getLastInsertRowid();
}

bool store::remove_preset(id_t id) {
    stmt st = prepare("DELETE FROM presets WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

std::vector<std::string> store::generate_cards(const std::string& batch, std::int64_t count,
                                               std::int64_t questions, std::int64_t days,
                                               std::optional<std::int64_t> redeem_before, std::int64_t now) {
    savepoint t(db_);
    {
        stmt b = prepare("INSERT INTO card_batches (name, questions, days, redeem_before, created_at) "
                         "VALUES (?,?,?,?,?) ON CONFLICT(name) DO NOTHING");
        b.bind(1, batch);
        b.bind(2, questions);
        b.bind(3, days);
        bind_opt(b, 4, redeem_before);
        b.bind(5, now);
        if (b.exec() == 0) throw store_error("invalid_params", "a batch named '" + batch + "' already exists");
    }
    stmt st = prepare("INSERT INTO cards (code, batch, questions, days, redeem_before, created_at) "
                      "VALUES (?,?,?,?,?,?) ON CONFLICT(code) DO NOTHING");
    std::vector<std::string> codes;
    codes.reserve(static_cast<std::size_t>(count));
    while (static_cast<std::int64_t>(codes.size()) < count) {
        // Inserting in key order keeps the B-tree writes sequential: several times faster
        // than random order for big batches.
        std::vector<std::string> draw(static_cast<std::size_t>(count) - codes.size());
        for (auto& c : draw) c = billing::new_card_code();
        std::sort(draw.begin(), draw.end());
        for (auto& code : draw) {
            st.bind(1, code);
            st.bind(2, batch);
            st.bind(3, questions);
            st.bind(4, days);
            bind_opt(st, 5, redeem_before);
            st.bind(6, now);
            // 80 random bits make a clash all but impossible; a clash is drawn again.
            if (st.exec() == 1) codes.push_back(std::move(code));
            st.reset();
        }
    }
    t.commit();
    return codes;
}

billing::balance store::redeem_card(id_t user_id, const std::string& code, std::int64_t now,
                                    std::int64_t paid_percent) {
    savepoint t(db_);
    {
        stmt c = prepare("SELECT status, redeem_before, questions, days FROM cards WHERE code = ?");
        c.bind(1, code);
        if (!c.executeStep()) throw store_error("card_invalid", "充值卡无效 (no such card)");
        std::string status = c.getColumn(0).getString();
        auto redeem_before = opt_i64(c.getColumn(1));
        std::int64_t questions = c.getColumn(2).getInt64(), days = c.getColumn(3).getInt64();
        if (status == "used") throw store_error("card_used", "充值卡已被使用 (this card was already redeemed)");
        if (status == "revoked") throw store_error("card_revoked", "充值卡已作废 (this card was revoked)");
        if (redeem_before && *redeem_before <= now)
            throw store_error("card_expired", "充值卡已过期 (this card has expired)");
        c.reset();

        // The claim itself: only one transaction can move the card from unused to used.
        stmt claim = prepare("UPDATE cards SET status = 'used', redeemed_by = ?, redeemed_at = ? "
                             "WHERE code = ? AND status = 'unused'");
        claim.bind(1, user_id);
        claim.bind(2, now);
        claim.bind(3, code);
        if (claim.exec() != 1) throw store_error("card_used", "充值卡已被使用 (this card was already redeemed)");

        auto before = balance_of(user_id);
        auto r = billing::apply_card(before, questions, days, now);
        stmt ub = prepare("UPDATE users SET paid_credits = ?, paid_expires_at = ? WHERE id = ?");
        ub.bind(1, r.after.paid);
        bind_opt(ub, 2, r.after.paid_expires_at);
        ub.bind(3, user_id);
        ub.exec();
        if (r.forfeited) add_ledger(user_id, now, 0, -r.forfeited, "paid_expired", "card:" + code);
        add_ledger(user_id, now, 0, questions, "card", "card:" + code);
        count_day(now, day_counter::redemptions, 1);
        count_day(now, day_counter::credits_sold, questions);
        // Only the direct inviter earns, in trial credits (they never expire): no chains.
        auto inviter = paid_percent > 0 ? user_by_id(user_id)->invited_by : std::nullopt;
        std::int64_t reward = inviter ? questions * paid_percent / 100 : 0;
        if (reward > 0) {
            stmt rw = prepare("UPDATE users SET trial_credits = trial_credits + ? WHERE id = ?");
            rw.bind(1, reward);
            rw.bind(2, *inviter);
            rw.exec();
            add_ledger(*inviter, now, reward, 0, "referral_paid", "card:" + code);
        }
    }
    auto bal = balance_of(user_id);
    t.commit();
    return bal;
}

std::vector<card_row> store::cards(const std::string& batch, const std::string& status, const page_cursor& page,
                                   std::int64_t now, std::optional<std::string>& next) {
    // Keyset pagination by code. "expired" is unused past redeem_before.
    std::string sql =
        "SELECT code, batch, questions, days, redeem_before, status, redeemed_by, redeemed_at, created_at "
        "FROM cards WHERE code > ?";
    if (!batch.empty()) sql += " AND batch = ?";
    if (status == "unused") sql += " AND status = 'unused' AND (redeem_before IS NULL OR redeem_before > ?)";
    else if (status == "expired") sql += " AND status = 'unused' AND redeem_before <= ?";
    else if (status == "used" || status == "revoked") sql += " AND status = ?";
    else if (!status.empty()) throw store_error("invalid_params", "status: unused, used, revoked or expired");
    sql += " ORDER BY code LIMIT ?";
    stmt st = prepare(sql);
    int i = 1;
    st.bind(i++, page.after.value_or(""));
    if (!batch.empty()) st.bind(i++, batch);
    if (status == "unused" || status == "expired") st.bind(i++, now);
    else if (!status.empty()) st.bind(i++, status);
    st.bind(i++, page.limit + 1);
    std::vector<card_row> out;
    while (st.executeStep()) {
        card_row c;
        c.code = st.getColumn(0).getString();
        c.batch = st.getColumn(1).getString();
        c.questions = st.getColumn(2).getInt64();
        c.days = st.getColumn(3).getInt64();
        c.redeem_before = opt_i64(st.getColumn(4));
        c.status = st.getColumn(5).getString();
        if (c.status == "unused" && c.redeem_before && *c.redeem_before <= now) c.status = "expired";
        c.redeemed_by = opt_i64(st.getColumn(6));
        c.redeemed_at = opt_i64(st.getColumn(7));
        c.created_at = st.getColumn(8).getInt64();
        out.push_back(std::move(c));
    }
    finish_page(out, page.limit, next, [](const auto& r) { return r.code; });
    return out;
}

std::vector<batch_row> store::card_batches(std::int64_t now) {
    // Counted from the (batch, status) index alone; a batch's cards share its redeem-before
    // date, so its unused cards are all expired or none is.
    stmt st = prepare(
        "SELECT b.name, b.questions, b.days, b.redeem_before, b.created_at, c.status, count(c.code) "
        "FROM card_batches b LEFT JOIN cards c ON c.batch = b.name GROUP BY b.name, c.status "
        "ORDER BY b.created_at DESC, b.name");
    std::vector<batch_row> out;
    while (st.executeStep()) {
        auto name = st.getColumn(0).getString();
        if (out.empty() || out.back().name != name) {
            batch_row b;
            b.name = name;
            b.questions = st.getColumn(1).getInt64();
            b.days = st.getColumn(2).getInt64();
            b.redeem_before = opt_i64(st.getColumn(3));
            b.created_at = st.getColumn(4).getInt64();
            out.push_back(std::move(b));
        }
        auto& b = out.back();
        auto status = text(st.getColumn(5));
        auto n = st.getColumn(6).getInt64();
        b.count += n;
        if (status == "used") b.used += n;
        else if (status == "revoked") b.revoked += n;
        else if (status == "unused") (b.redeem_before && *b.redeem_before <= now ? b.expired : b.unused) += n;
    }
    return out;
}

std::int64_t store::revoke_cards(const std::vector<std::string>& codes, const std::string& batch, std::int64_t) {
    savepoint t(db_);
    std::int64_t n = 0;
    if (!batch.empty()) {
        stmt st = prepare("UPDATE cards SET status = 'revoked' WHERE batch = ? AND status = 'unused'");
        st.bind(1, batch);
        n += st.exec();
    }
    stmt one = prepare("UPDATE cards SET status = 'revoked' WHERE code = ? AND status = 'unused'");
    for (const auto& code : codes) {
        one.bind(1, code);
        n += one.exec();
        one.reset();
    }
    t.commit();
    return n;
}

std::map<std::string, std::string> store::settings() {
    stmt st = prepare( "SELECT key, value FROM settings");
    std::map<std::string, std::string> out;
    while (st.executeStep()) out[st.getColumn(0).getString()] = st.getColumn(1).getString();
    return out;
}

void store::set_setting(const std::string& key, const std::string& value) {
    stmt st = prepare(
        "INSERT INTO settings (key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
    st.bind(1, key);
    st.bind(2, value);
    st.exec();
}

// The messages from the conversation's first one down to `leaf_id`, oldest first.
std::vector<branch_message> store::branch(id_t conversation_id, id_t leaf_id) {
    std::vector<branch_message> out;
    stmt st = prepare(
        "SELECT parent_id, role, content, status FROM messages WHERE id = ? AND conversation_id = ?");
    std::optional<id_t> cur = leaf_id;
    while (cur) {
        st.reset();
        st.bind(1, *cur);
        st.bind(2, conversation_id);
        if (!st.executeStep()) break;
        cur = opt_i64(st.getColumn(0));
        out.push_back({st.getColumn(1).getString(), st.getColumn(2).getString(), st.getColumn(3).getString()});
    }
    std::reverse(out.begin(), out.end());
    return out;
}

started_answer store::start_question(const question& q, std::int64_t now) {
    savepoint t(db_);
    started_answer out;
    // parent_id 0 asks for a new root: an edit of the conversation's first question.
    const bool new_root = q.parent_id == 0;
    std::optional<id_t> parent = new_root ? std::nullopt : q.parent_id;
    if (q.conversation_id) {
        stmt st = prepare(
            "SELECT user_id, current_leaf_id, model, deleted_at FROM conversations WHERE id = ?");
        st.bind(1, *q.conversation_id);
        if (!st.executeStep() || st.getColumn(0).getInt64() != q.user_id || !st.getColumn(3).isNull())
            throw store_error("not_found", "no such conversation");
        out.conversation_id = *q.conversation_id;
        out.model = st.getColumn(2).getString();
        if (!parent && !new_root) parent = opt_i64(st.getColumn(1));
        if (parent) {
            stmt p = prepare( "SELECT 1 FROM messages WHERE id = ? AND conversation_id = ?");
            p.bind(1, *parent);
            p.bind(2, out.conversation_id);
            if (!p.executeStep()) throw store_error("not_found", "parent message not in this conversation");
        }
        if (!q.model.empty() && q.model != out.model) {
            stmt um = prepare( "UPDATE conversations SET model = ? WHERE id = ?");
            um.bind(1, q.model);
            um.bind(2, out.conversation_id);
            um.exec();
            out.model = q.model;
        }
        if (q.system_prompt || q.role_id) {
            stmt us = prepare(
                "UPDATE conversations SET system_prompt = COALESCE(?, system_prompt), role_id = COALESCE(?, role_id) WHERE id = ?");
            if (q.system_prompt) us.bind(1, *q.system_prompt); else us.bind(1);
            bind_opt(us, 2, q.role_id);
            us.bind(3, out.conversation_id);
            us.exec();
        }
    } else {
        if (parent) throw store_error("invalid_params", "parent_id needs conversation_id");
        stmt st = prepare(
            "INSERT INTO conversations (user_id, title, model, role_id, system_prompt, created_at, updated_at) "
            "VALUES (?,?,?,?,?,?,?)");
        st.bind(1, q.user_id);
        st.bind(2, title_from(q.content));
        st.bind(3, q.model);
        bind_opt(st, 4, q.role_id);
        if (q.system_prompt && !q.system_prompt->empty()) st.bind(5, *q.system_prompt); else st.bind(5);
        st.bind(6, now);
        st.bind(7, now);
        st.exec();
        out.conversation_id = db_.getLastInsertRowid();
        out.model = q.model;
    }

    stmt um = prepare(
        "INSERT INTO messages (conversation_id, parent_id, role, content, status, created_at) VALUES (?,?,'user',?,'done',?)");
    um.bind(1, out.conversation_id);
    bind_opt(um, 2, parent);
    um.bind(3, q.content);
    um.bind(4, now);
    um.exec();
    out.user_message_id = db_.getLastInsertRowid();
    index_for_search(out.user_message_id, q.content);

    open_answer(q.user_id, out, q.cost, now);
    t.commit();
    return out;
}

started_answer store::start_regenerate(id_t user_id, id_t assistant_message_id, std::int64_t cost,
                                       std::int64_t now) {
    savepoint t(db_);
    auto m = message(assistant_message_id);
    if (!m || m->user_id != user_id || m->role != "assistant" || !m->parent_id)
        throw store_error("not_found", "no such answer");
    if (m->status == "streaming") throw store_error("busy", "that answer is still being written");
    auto c = conversation(m->conversation_id);
    if (!c || c->deleted_at) throw store_error("not_found", "no such conversation");
    started_answer out;
    out.conversation_id = m->conversation_id;
    out.user_message_id = *m->parent_id;
    out.model = c->model;
    open_answer(user_id, out, cost, now);
    t.commit();
    return out;
}

// Inside the caller's transaction: charges the user and adds the streaming answer to
// out.user_message_id, filling out.message_id, out.system_prompt and out.branch.
void store::open_answer(id_t user_id, started_answer& out, std::int64_t cost, std::int64_t now) {

    // Reserve the charge: paid first while valid, then trial.
    auto bal = balance_of(user_id);
    auto plan = billing::plan_charge(bal, cost, now);
    if (!plan) throw store_error("insufficient_credits", "not enough credits");

    stmt am = prepare(
        "INSERT INTO messages (conversation_id, parent_id, role, status, model, charge_trial, charge_paid, created_at) "
        "VALUES (?,?,'assistant','streaming',?,?,?,?)");
    am.bind(1, out.conversation_id);
    am.bind(2, out.user_message_id);
    am.bind(3, out.model);
    am.bind(4, plan->from_trial);
    am.bind(5, plan->from_paid);
    am.bind(6, now);
    am.exec();
    out.message_id = db_.getLastInsertRowid();
    count_day(now, day_counter::questions, 1);
    count_active(now, user_id);

    if (plan->total() > 0) {
        stmt ub = prepare(
            "UPDATE users SET trial_credits = trial_credits - ?, paid_credits = paid_credits - ? WHERE id = ?");
        ub.bind(1, plan->from_trial);
        ub.bind(2, plan->from_paid);
        ub.bind(3, user_id);
        ub.exec();
        add_ledger(user_id, now, -plan->from_trial, -plan->from_paid, "question",
                   "message:" + std::to_string(out.message_id));
    }
    stmt uc = prepare( "UPDATE conversations SET current_leaf_id = ?, updated_at = ? WHERE id = ?");
    uc.bind(1, out.message_id);
    uc.bind(2, now);
    uc.bind(3, out.conversation_id);
    uc.exec();

    stmt sp = prepare("SELECT system_prompt FROM conversations WHERE id = ?");
    sp.bind(1, out.conversation_id);
    if (sp.executeStep()) out.system_prompt = text(sp.getColumn(0));
    out.branch = branch(out.conversation_id, out.user_message_id);
}

void store::save_partial(const std::vector<std::pair<id_t, std::string>>& texts) {
    if (texts.empty()) return;
    savepoint t(db_);
    stmt st = prepare( "UPDATE messages SET content = ? WHERE id = ? AND status = 'streaming'");
    for (const auto& [id, content] : texts) {
        st.reset();
        st.bind(1, content);
        st.bind(2, id);
        st.exec();
    }
    t.commit();
}

billing::balance store::finish_answer(const finished_answer& f, std::int64_t now) {
    savepoint t(db_);
    auto m = message(f.message_id);
    if (!m) throw store_error("not_found", "no such message");
    if (m->status != "streaming") {
        // Already finished (e.g. by the start-up sweep): nothing may be refunded twice.
        t.commit();
        return balance_of(m->user_id);
    }
    stmt st = prepare(
        "UPDATE messages SET status=?, content=?, refunded=?, free_reason=?, error_reason=?, error_message=?, "
        "prompt_tokens=?, completion_tokens=?, first_token_ms=?, total_ms=?, key_id=?, finished_at=? WHERE id=?");
    st.bind(1, f.status);
    st.bind(2, f.content);
    st.bind(3, f.refund ? 1 : 0);
    bind_text_or_null(st, 4, f.free_reason);
    bind_text_or_null(st, 5, f.error_reason);
    bind_text_or_null(st, 6, f.error_message);
    bind_opt(st, 7, f.prompt_tokens);
    bind_opt(st, 8, f.completion_tokens);
    bind_opt(st, 9, f.first_token_ms);
    bind_opt(st, 10, f.total_ms);
    bind_opt(st, 11, f.key_id);
    st.bind(12, now);
    st.bind(13, f.message_id);
    st.exec();
    if (f.first_token_ms) count_latency(m->created_at, *f.first_token_ms);
    index_for_search(f.message_id, f.content);
    if (f.refund && (m->charge_trial || m->charge_paid)) {
        stmt ub = prepare(
            "UPDATE users SET trial_credits = trial_credits + ?, paid_credits = paid_credits + ? WHERE id = ?");
        ub.bind(1, m->charge_trial);
        ub.bind(2, m->charge_paid);
        ub.bind(3, m->user_id);
        ub.exec();
        add_ledger(m->user_id, now, m->charge_trial, m->charge_paid,
                   f.free_reason.empty() ? "refund" : "refund_" + f.free_reason,
                   "message:" + std::to_string(f.message_id));
    }
    auto bal = balance_of(m->user_id);
    t.commit();
    return bal;
}

int store::interrupt_streaming(std::int64_t now) {
    std::vector<id_t> ids;
    {
        stmt st = prepare( "SELECT id, content FROM messages WHERE status = 'streaming'");
        while (st.executeStep()) ids.push_back(st.getColumn(0).getInt64());
    }
    for (id_t id : ids) {
        auto m = message(id);
        finished_answer f;
        f.message_id = id;
        f.status = "interrupted";
        f.content = m->content;
        f.refund = true;
        f.error_reason = "interrupted";
        f.error_message = "the service restarted while this answer was being written";
        finish_answer(f, now);
    }
    return static_cast<int>(ids.size());
}

std::optional<message_row> store::message(id_t id) {
    stmt st = prepare( std::string("SELECT ") + message_columns +
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return read_message(st);
}

std::vector<conversation_row> store::conversations(id_t user_id, const std::string& query,
                                                   const page_cursor& page,
                                                   std::optional<std::string>& next, bool operator_view) {
    // Keyset pagination over (pinned, updated_at, id), newest first, pinned on top.
    std::int64_t cp = 2, cu = INT64_MAX, ci = INT64_MAX;
    if (page.after) {
        if (std::sscanf(page.after->c_str(), "%ld:%ld:%ld", &cp, &cu, &ci) != 3)
            throw store_error("invalid_params", "bad cursor");
    }
    std::string sql = std::string("SELECT ") + conversation_columns +
        " FROM conversations c JOIN users u ON u.id = c.user_id WHERE "
        "(c.pinned < ? OR (c.pinned = ? AND (c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))))";
    if (user_id) sql += " AND c.user_id = ?";
    if (!operator_view) sql += " AND c.deleted_at IS NULL";
    if (!query.empty())
        sql += " AND (c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m WHERE "
               "m.conversation_id = c.id AND m.content LIKE ? ESCAPE '\\'))";
    sql += " ORDER BY c.pinned DESC, c.updated_at DESC, c.id DESC LIMIT ?";
    stmt st = prepare( sql);
    int i = 1;
    st.bind(i++, cp);
    st.bind(i++, cp);
    st.bind(i++, cu);
    st.bind(i++, cu);
    st.bind(i++, ci);
    if (user_id) st.bind(i++, user_id);
    if (!query.empty()) {
        auto pat = like_pattern(query);
        st.bind(i++, pat);
        st.bind(i++, pat);
    }
    st.bind(i++, page.limit + 1);
    std::vector<conversation_row> out;
    while (st.executeStep()) out.push_back(read_conversation(st));
    finish_page(out, page.limit, next, [](const auto& r) {
        return std::to_string(r.pinned ? 1 : 0) + ":" + std::to_string(r.updated_at) + ":" +
               std::to_string(r.id);
    });
    return out;
}

std::optional<conversation_row> store::conversation(id_t id) {
    stmt st = prepare( std::string("SELECT ") + conversation_columns +
        " FROM conversations c JOIN users u ON u.id = c.user_id WHERE c.id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return read_conversation(st);
}

std::vector<message_row> store::conversation_messages(id_t conversation_id) {
    stmt st = prepare( std::string("SELECT ") + message_columns +
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = ? ORDER BY m.id");
    st.bind(1, conversation_id);
    std::vector<message_row> out;
    while (st.executeStep()) out.push_back(read_message(st));
    return out;
}

bool store::rename_conversation(id_t user_id, id_t id, const std::string& title, std::int64_t now) {
    stmt st = prepare(
        "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL");
    st.bind(1, title);
    st.bind(2, now);
    st.bind(3, id);
    st.bind(4, user_id);
    return st.exec() > 0;
}

bool store::delete_conversation(id_t user_id, id_t id, std::int64_t now) {
    stmt st = prepare(
        "UPDATE conversations SET deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL");
    st.bind(1, now);
    st.bind(2, id);
    st.bind(3, user_id);
    return st.exec() > 0;
}

bool store::pin_conversation(id_t user_id, id_t id, bool pinned) {
    stmt st = prepare(
        "UPDATE conversations SET pinned = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL");
    st.bind(1, pinned ? 1 : 0);
    st.bind(2, id);
    st.bind(3, user_id);
    return st.exec() > 0;
}

void store::audit(std::int64_t at, const std::string& actor, const std::string& via,
                  const std::string& method, const std::string& params_json) {
    audit_row entry;
    entry.at = at;
    entry.actor = actor;
    entry.via = via;
    entry.method = method;
    entry.params = params_json;
    audit(entry);
}

void store::audit(const audit_row& e) {
    stmt st = prepare(
        "INSERT INTO audit_log (at, actor, via, method, params, address, before, after) VALUES (?,?,?,?,?,?,?,?)");
    st.bind(1, e.at);
    st.bind(2, e.actor);
    st.bind(3, e.via);
    st.bind(4, e.method);
    st.bind(5, e.params);
    auto bind_text = [&](int i, const std::string& v) {
        if (v.empty()) st.bind(i);
        else st.bind(i, v);
    };
    bind_text(6, e.address);
    bind_text(7, e.before);
    bind_text(8, e.after);
    st.exec();
}

status_counts store::counts() {
    status_counts c;
    c.users = db_.execAndGet("SELECT count(*) FROM users").getInt64();
    c.conversations = db_.execAndGet("SELECT count(*) FROM conversations").getInt64();
    c.search_backlog = db_.execAndGet("SELECT max(below - next_id, 0) FROM search_backfill").getInt64();
    return c;
}

std::vector<audit_row> store::audit_log(const page_cursor& page, std::optional<std::string>& next) {
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

void store::index_for_search(id_t message_id, const std::string& content) {
    // Older messages are the background backfill's (see migration 008).
    if (search_backfill_below_ == 0)
        search_backfill_below_ = db_.execAndGet("SELECT below FROM search_backfill").getInt64();
    if (message_id < search_backfill_below_ || content.empty()) return;
    stmt st = prepare("INSERT INTO message_search (rowid, content) VALUES (?, ?)");
    st.bind(1, message_id);
    st.bind(2, content);
    st.exec();
}

int store::backfill_search(int batch) {
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

std::vector<conversation_row> store::search_conversations(const std::string& expression, const page_cursor& page,
                                                          std::optional<std::string>& next) {
    // Newest matching message first; each conversation once per page, by its newest match.
    std::int64_t before = INT64_MAX;
    if (page.after) {
        if (std::sscanf(page.after->c_str(), "m%ld", &before) != 1) throw store_error("invalid_params", "bad cursor");
    }
    stmt hits = prepare("SELECT rowid FROM message_search WHERE message_search MATCH ? AND rowid < ? ORDER BY rowid DESC");
    hits.bind(1, expression);
    hits.bind(2, before);
    stmt owner = prepare("SELECT conversation_id FROM messages WHERE id = ?");
    std::vector<conversation_row> out;
    std::vector<std::int64_t> at;
    std::set<id_t> seen;
    while (static_cast<int>(out.size()) <= page.limit && hits.executeStep()) {
        auto message_id = hits.getColumn(0).getInt64();
        owner.reset();
        owner.bind(1, message_id);
        if (!owner.executeStep()) continue;
        auto conversation_id = owner.getColumn(0).getInt64();
        if (!seen.insert(conversation_id).second) continue;
        if (auto c = conversation(conversation_id)) {
            out.push_back(std::move(*c));
            at.push_back(message_id);
        }
    }
    hits.reset();
    next.reset();
    if (static_cast<int>(out.size()) > page.limit) {
        out.pop_back();
        next = "m" + std::to_string(at[out.size() - 1]);
    }
    return out;
}

std::vector<day_stats> store::stats(int days, std::int64_t now) {
    // Reads the rollups of the last `days` days (server local time), oldest first.
    std::vector<day_stats> out(static_cast<std::size_t>(days));
    std::map<std::string, day_stats*> by_day;
    std::time_t t = static_cast<std::time_t>(now);
    std::tm today{};
    localtime_r(&t, &today);
    for (int i = 0; i < days; ++i) {
        // Calendar days back from today (noon, so DST shifts cannot skip or repeat a date).
        std::tm day = today;
        day.tm_mday -= days - 1 - i;
        day.tm_hour = 12;
        day.tm_isdst = -1;
        auto& d = out[static_cast<std::size_t>(i)];
        d.date = local_date(static_cast<std::int64_t>(std::mktime(&day)));
        by_day[d.date] = &d;
    }
    const std::string& since = out.front().date;
    {
        stmt st = prepare("SELECT date, questions, new_users, redemptions, credits_sold FROM daily_stats WHERE date >= ?");
        st.bind(1, since);
        while (st.executeStep()) {
            auto it = by_day.find(st.getColumn(0).getString());
            if (it == by_day.end()) continue;
            it->second->questions = st.getColumn(1).getInt64();
            it->second->new_users = st.getColumn(2).getInt64();
            it->second->redemptions = st.getColumn(3).getInt64();
            it->second->credits_sold = st.getColumn(4).getInt64();
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
            const auto& buckets = entry.second;
            if (it == by_day.end()) continue;
            std::int64_t total = 0;
            for (auto& b : buckets) total += b.second;
            auto pct = [&](double q) {
                // The bucket holding the q-th answer, as its middle value in ms.
                auto rank = static_cast<std::int64_t>(std::ceil(q * static_cast<double>(total)));
                std::int64_t seen = 0;
                for (auto& b : buckets)
                    if ((seen += b.second) >= std::max<std::int64_t>(rank, 1)) return latency_of_bucket(b.first);
                return latency_of_bucket(buckets.back().first);
            };
            it->second->first_token_p50_ms = pct(0.50);
            it->second->first_token_p95_ms = pct(0.95);
        }
    }
    return out;
}

void store::count_day(std::int64_t at, day_counter what, std::int64_t by) {
    static constexpr const char* sql[] = {
        "INSERT INTO daily_stats (date, questions) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET questions = questions + excluded.questions",
        "INSERT INTO daily_stats (date, new_users) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET new_users = new_users + excluded.new_users",
        "INSERT INTO daily_stats (date, redemptions) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET redemptions = redemptions + excluded.redemptions",
        "INSERT INTO daily_stats (date, credits_sold) VALUES (?, ?) "
        "ON CONFLICT (date) DO UPDATE SET credits_sold = credits_sold + excluded.credits_sold",
    };
    stmt st = prepare(sql[static_cast<int>(what)]);
    st.bind(1, local_date(at));
    st.bind(2, by);
    st.exec();
}

void store::count_active(std::int64_t at, id_t user_id) {
    stmt st = prepare("INSERT OR IGNORE INTO daily_active (date, user_id) VALUES (?, ?)");
    st.bind(1, local_date(at));
    st.bind(2, user_id);
    st.exec();
}

void store::count_latency(std::int64_t at, std::int64_t first_token_ms) {
    stmt st = prepare("INSERT INTO daily_latency (date, bucket, count) VALUES (?, ?, 1) "
                      "ON CONFLICT (date, bucket) DO UPDATE SET count = count + 1");
    st.bind(1, local_date(at));
    st.bind(2, latency_bucket(first_token_ms));
    st.exec();
}

std::vector<id_t> store::ledger_mismatches() {
    stmt st = prepare(
        "SELECT u.id FROM users u LEFT JOIN (SELECT user_id, sum(delta_trial) t, sum(delta_paid) p FROM ledger "
        "GROUP BY user_id) l ON l.user_id = u.id WHERE u.trial_credits != COALESCE(l.t, 0) OR "
        "u.paid_credits != COALESCE(l.p, 0)");
    std::vector<id_t> out;
    while (st.executeStep()) out.push_back(st.getColumn(0).getInt64());
    return out;
}

std::int64_t store::backup_to(const std::string& path) {
    if (std::filesystem::exists(path)) throw store_error("invalid_params", "file exists: " + path);
    {
        SQLite::Database dest(path, SQLite::OPEN_READWRITE | SQLite::OPEN_CREATE);
        SQLite::Backup b(dest, db_);
        b.executeStep();
    }
    return static_cast<std::int64_t>(std::filesystem::file_size(path));
}

}  // namespace chatd::store
