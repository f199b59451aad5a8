#pragma once
// All persistent state, in SQLite (WAL). The one `store` object is used only from the
// database thread (see db_executor.hpp); every method is synchronous and every multi-row
// change is one transaction. This class is the seam for another backend.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <map>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <vector>

#include "store/types.hpp"
#include "util/app_error.hpp"

namespace chatd::store {

using store_error = app_error;

struct question {
    id_t user_id = 0;
    std::optional<id_t> conversation_id;  // none: a new conversation
    std::optional<id_t> parent_id;        // none: after the current leaf; 0: a new root
    std::string content;
    std::string model;
    std::int64_t cost = 1;
    std::optional<id_t> role_id;
    std::optional<std::string> system_prompt;  // set: replaces the conversation's own prompt
};

struct started_answer {
    id_t conversation_id = 0;
    id_t user_message_id = 0;
    id_t message_id = 0;
    std::string model;          // the conversation's model id
    std::string system_prompt;  // the conversation's; empty when it has none
    // From the conversation's first message down to the question, oldest first: the caller
    // trims it to the model's budget (chat/context.hpp).
    std::vector<branch_message> branch;
};

struct finished_answer {
    id_t message_id = 0;
    std::string status;  // done | stopped | failed | interrupted
    std::string content;
    bool refund = false;
    std::string free_reason, error_reason, error_message;
    std::optional<int> prompt_tokens, completion_tokens;
    std::optional<std::int64_t> first_token_ms, total_ms;
    std::optional<id_t> key_id;
};

struct page_cursor {
    std::optional<std::string> after;
    int limit = 20;
};

struct status_counts {
    std::int64_t users = 0, conversations = 0;
    std::int64_t search_backlog = 0;  // older messages not yet in the search index
};

// A prepared statement from the store's cache, reset when the handle goes, so no half-read
// statement keeps a read transaction open. Every use binds all of its parameters.
class stmt {
public:
    explicit stmt(SQLite::Statement& s) : s_(s) {}
    ~stmt() { s_.tryReset(); }
    stmt(const stmt&) = delete;
    stmt& operator=(const stmt&) = delete;
    template <class... A>
    void bind(A&&... a) { s_.bind(std::forward<A>(a)...); }
    bool executeStep() { return s_.executeStep(); }
    int exec() { return s_.exec(); }
    SQLite::Column getColumn(int i) const { return s_.getColumn(i); }
    void reset() { s_.reset(); }
    operator SQLite::Statement&() { return s_; }

private:
    SQLite::Statement& s_;
};

class store {
public:
    enum class access { read_write, read_only };
    explicit store(const std::string& path, access mode = access::read_write);
    ~store();

    void migrate();
    int schema_version();

    // Accounts
    // `invite` is the inviter's invite code (may be empty or unknown: then ignored); the
    // inviter earns `signup_reward` trial questions.
    user_row create_password_user(const std::string& username, const std::string& password_hash,
                                  bool is_admin, std::int64_t trial, std::int64_t now,
                                  const std::string& invite = "", std::int64_t signup_reward = 0);
    // A user who logs in with WeChat, keyed by the openid (the same trial and referral rules).
    user_row create_wechat_user(const std::string& openid, const std::optional<std::string>& unionid,
                                std::int64_t trial, std::int64_t now, const std::string& invite = "",
                                std::int64_t signup_reward = 0);
    std::optional<user_row> user_by_openid(const std::string& openid);
    void set_unionid(id_t user_id, const std::string& unionid);
    std::vector<user_row> users(const std::string& query, const page_cursor& page, std::optional<std::string>& next);
    void set_banned(id_t user_id, bool banned);
    // An operator's grant (negative deducts). bucket "trial" or "paid"; paid with days renews
    // like a card. Refuses to take a bucket below zero.
    billing::balance grant(id_t user_id, std::int64_t questions, std::optional<std::int64_t> days,
                           const std::string& bucket, const std::string& actor, std::int64_t now);
    std::vector<ledger_row> ledger(id_t user_id, const page_cursor& page, std::optional<std::string>& next);
    struct invite_stats {
        std::int64_t invited = 0, rewarded = 0;
    };
    invite_stats invites(id_t user_id);
    std::optional<user_row> user_by_username(const std::string& username);
    std::optional<user_row> user_by_id(id_t id);
    void update_user(id_t id, const std::optional<std::string>& name,
                     const std::optional<std::string>& theme);
    billing::balance balance_of(id_t user_id);

    // Sessions (token hashes only)
    void create_session(const std::string& token_hash, id_t user_id, std::int64_t now,
                        std::int64_t expires_at, const std::string& ip, const std::string& user_agent);
    std::optional<user_row> session_user(const std::string& token_hash, std::int64_t now);
    void delete_session(const std::string& token_hash);
    int purge_sessions(std::int64_t now);

    // Upstream keys
    std::vector<id_t> add_keys(const std::vector<std::string>& secrets, const std::string& base_url,
                               const std::vector<std::string>& models, const std::string& note,
                               const std::string& provider, std::int64_t now);
    std::vector<key_row> keys();
    bool remove_key(id_t id);
    bool set_key_enabled(id_t id, bool enabled);
    void save_key_states(const std::vector<key_row>& rows);  // status, counters, last_*
    void add_key_events(const std::vector<key_event_row>& events);
    std::vector<key_event_row> key_events(id_t key_id, int limit);  // newest first

    // Models
    std::vector<model_row> models();
    void upsert_model(const model_row& m);
    bool remove_model(const std::string& id);

    // Roles and preset questions. upsert_* with id 0 add a row; they return its id.
    std::vector<role_row> roles();
    std::optional<role_row> role(id_t id);
    id_t upsert_role(const role_row& r);
    bool remove_role(id_t id);
    std::vector<preset_row> presets();
    id_t upsert_preset(const preset_row& p);
    bool remove_preset(id_t id);

    // Recharge cards. generate_cards returns the new codes (normalised) in order.
    std::vector<std::string> generate_cards(const std::string& batch, std::int64_t count, std::int64_t questions,
                                            std::int64_t days, std::optional<std::int64_t> redeem_before,
                                            std::int64_t now);
    // Exactly once: store_error card_invalid / card_used / card_revoked / card_expired.
    // The inviter, if any, earns paid_percent % of the card's questions (rounded down).
    billing::balance redeem_card(id_t user_id, const std::string& code, std::int64_t now,
                                 std::int64_t paid_percent = 0);
    std::vector<card_row> cards(const std::string& batch, const std::string& status, const page_cursor& page,
                                std::int64_t now, std::optional<std::string>& next);
    std::vector<batch_row> card_batches(std::int64_t now);
    std::int64_t revoke_cards(const std::vector<std::string>& codes, const std::string& batch, std::int64_t now);

    // Settings (operator's run-time values)
    std::map<std::string, std::string> settings();
    void set_setting(const std::string& key, const std::string& value);

    // Chat. start_* charge the user in the same transaction (store_error "insufficient_credits").
    started_answer start_question(const question& q, std::int64_t now);
    started_answer start_regenerate(id_t user_id, id_t assistant_message_id, std::int64_t cost,
                                    std::int64_t now);
    void save_partial(const std::vector<std::pair<id_t, std::string>>& texts);
    // Final state; refunds the charge when asked. Returns the owner's balance afterwards.
    billing::balance finish_answer(const finished_answer& f, std::int64_t now);
    // Start-up: answers left streaming by a crash become interrupted and are refunded.
    int interrupt_streaming(std::int64_t now);

    std::optional<message_row> message(id_t id);
    // A user's own list; with operator_view, every user's (or user_id's, when non-zero),
    // deleted ones included.
    std::vector<conversation_row> conversations(id_t user_id, const std::string& query,
                                                const page_cursor& page,
                                                std::optional<std::string>& next,
                                                bool operator_view = false);
    std::optional<conversation_row> conversation(id_t id);
    std::vector<message_row> conversation_messages(id_t conversation_id);
    bool rename_conversation(id_t user_id, id_t id, const std::string& title, std::int64_t now);
    bool delete_conversation(id_t user_id, id_t id, std::int64_t now);
    bool pin_conversation(id_t user_id, id_t id, bool pinned);

    // Operations
    void audit(const audit_row& entry);
    void audit(std::int64_t at, const std::string& actor, const std::string& via,
               const std::string& method, const std::string& params_json);
    status_counts counts();
    std::vector<audit_row> audit_log(const page_cursor& page, std::optional<std::string>& next);
    // The last `days` days up to `now`, oldest first.
    std::vector<day_stats> stats(int days, std::int64_t now);
    // Operator search over every message (FTS, see text_search.hpp); `expression` from
    // search_expression(). Cursors are "m<message id>".
    std::vector<conversation_row> search_conversations(const std::string& expression, const page_cursor& page,
                                                       std::optional<std::string>& next);
    // Indexes up to `batch` messages older than the search index; 0 when there are none left.
    int backfill_search(int batch);
    // Consistency: ids of users whose ledger does not sum to their balance.
    std::vector<id_t> ledger_mismatches();
    // Must run outside any transaction (database::run_alone).
    std::int64_t backup_to(const std::string& path);

    // For the database thread's batching only.
    SQLite::Database& connection() { return db_; }

private:
    void index_for_search(id_t message_id, const std::string& content);
    std::int64_t search_backfill_below_ = 0;
    enum class day_counter { questions, new_users, redemptions, credits_sold };
    void count_day(std::int64_t at, day_counter what, std::int64_t by);
    void count_active(std::int64_t at, id_t user_id);
    void count_latency(std::int64_t at, std::int64_t first_token_ms);
    void welcome_user(id_t id, std::int64_t trial, std::int64_t now, const std::string& invite,
                      std::int64_t signup_reward);
    void add_ledger(id_t user, std::int64_t now, std::int64_t d_trial, std::int64_t d_paid,
                    const std::string& reason, const std::string& ref);
    std::vector<branch_message> branch(id_t conversation_id, id_t leaf_id);
    void open_answer(id_t user_id, started_answer& out, std::int64_t cost, std::int64_t now);
    user_row read_user(SQLite::Statement& st);
    // Preparing costs more than running most of these statements: keep them.
    stmt prepare(const std::string& sql);
    SQLite::Database db_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
};

}  // namespace chatd::store
