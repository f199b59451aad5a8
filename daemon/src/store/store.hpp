#pragma once
// All persistent state, behind one interface so that a backend can be swapped without
// touching a caller. The one `store` object is used only from the database thread (see
// database.hpp); every method is synchronous and every multi-row change is one transaction.
// store/sqlite/ implements it on SQLite.
#include <cstdint>
#include <functional>
#include <map>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "store/ledger.hpp"
#include "store/order_book.hpp"
#include "store/types.hpp"
#include "util/app_error.hpp"

namespace chatd::store {

struct question {
    id_t user_id = 0;
    std::optional<id_t> conversation_id;  // none: a new conversation
    std::optional<id_t> parent_id;        // none: after the current leaf; 0: a new root
    std::string content;
    std::string model;
    std::optional<id_t> role_id;
    std::optional<std::string> system_prompt;  // set: replaces the conversation's own prompt
    std::vector<std::string> attachments;      // upload ids, checked to be the user's
    std::optional<id_t> api_key_id;            // asked through the API: a conversation of its own
};

struct started_answer {
    id_t conversation_id = 0;
    id_t user_message_id = 0;
    id_t message_id = 0;
    std::string model;          // the conversation's model id
    std::string system_prompt;  // the conversation's; empty when it has none
};

// Decides what an answer costs from each bucket given the asker's balance, or throws
// (insufficient_credits): billing's rule, asked inside the store's transaction.
using charge_planner = std::function<charge(const balance&)>;

// What the asker already has going, counted in the question's transaction once the asker's row
// is locked: on a database several instances share, no one instance's memory sees all of it.
struct asker_load {
    std::int64_t answers_streaming = 0;
    std::int64_t questions_last_minute = 0;  // questions and regenerations let in, last 60 s
};

// The chat layer's limits on that load (chat_service): throws to refuse the question, which
// then writes nothing. Empty: the caller counts in memory (one instance), nothing is counted here.
using load_check = std::function<void(const asker_load&)>;

// The rate_hits bucket of a user's questions, for asker_load::questions_last_minute.
inline std::string questions_bucket(id_t user_id) { return "question:" + std::to_string(user_id); }

// Takes a question's branch for the answer's context, one message at a time from the question
// back towards the conversation's first, and returns false once it wants no older one: how
// much of the branch is worth reading is the caller's rule (chat/context.hpp).
using branch_reader = std::function<bool(branch_message)>;

struct finished_answer {
    id_t message_id = 0;
    std::string status;  // done | stopped | failed | interrupted
    std::string content;
    std::string reasoning;
    std::optional<std::int64_t> reasoning_ms;
    bool refund = false;
    std::string free_reason, error_reason, error_message;
    std::string finish_reason;  // the upstream's (stop, length, …), when it gave one
    std::optional<int> prompt_tokens, completion_tokens, reasoning_tokens;
    bool tokens_estimated = false;  // counted from the text: the upstream reported none
    double upstream_cost = 0;       // the tokens at the model's prices
    std::optional<std::int64_t> first_token_ms, total_ms;
    std::optional<id_t> key_id;
};

struct status_counts {
    std::int64_t users = 0, admins = 0, conversations = 0;  // users: visitors, not operators
    std::int64_t search_backlog = 0;  // messages not yet in the search index (older and queued ones)
};

class store : public ledger, public order_book {
public:
    store() = default;
    store(const store&) = delete;
    store& operator=(const store&) = delete;
    virtual ~store() = default;

    virtual void migrate() = 0;
    virtual int schema_version() = 0;

    // Accounts. New users start with no credits: their trial grant and the inviter's reward
    // are billing's (billing::welcome_new_user), in the same transaction.
    virtual user_row create_password_user(const std::string& username,
                                          const std::string& password_hash, bool is_admin,
                                          std::int64_t now) = 0;
    // A user who logs in with WeChat, keyed by the openid.
    virtual user_row create_wechat_user(const std::string& openid,
                                        const std::optional<std::string>& unionid,
                                        std::int64_t now) = 0;
    virtual std::optional<user_row> user_by_openid(const std::string& openid) = 0;
    virtual void set_unionid(id_t user_id, const std::string& unionid) = 0;
    virtual std::vector<user_row> users(const std::string& query, const page_cursor& page,
                                        std::optional<std::string>& next) = 0;
    virtual void set_banned(id_t user_id, bool banned) = 0;
    virtual std::vector<ledger_row> ledger(id_t user_id, const page_cursor& page,
                                           std::optional<std::string>& next) = 0;
    struct invite_stats {
        std::int64_t invited = 0, rewarded = 0;
    };
    virtual invite_stats invites(id_t user_id) = 0;
    virtual std::optional<user_row> user_by_username(const std::string& username) = 0;
    virtual std::optional<user_row> user_by_id(id_t id) = 0;
    virtual void update_user(id_t id, const profile_change& change) = 0;

    // Personal API keys (api_keys.cpp; hashes only). add_api_key refuses (too_many_keys) a
    // user who has `most` live keys already; returns the new key's id.
    virtual id_t add_api_key(const api_key_row& key, const std::string& key_hash, int most) = 0;
    virtual std::vector<api_key_row> api_keys(id_t user_id) = 0;  // live ones, oldest first
    virtual bool revoke_api_key(id_t user_id, id_t key_id, std::int64_t now) = 0;
    // The live key with this hash and its owner.
    virtual std::optional<api_caller> find_api_key(const std::string& key_hash) = 0;
    virtual void note_api_key_used(id_t key_id, std::int64_t now) = 0;
    virtual bool set_api_enabled(id_t user_id, bool enabled) = 0;

    // Sessions (token hashes only)
    virtual void create_session(const std::string& token_hash, id_t user_id, std::int64_t now,
                                std::int64_t expires_at, const std::string& ip,
                                const std::string& user_agent) = 0;
    virtual std::optional<user_row> session_user(const std::string& token_hash,
                                                 std::int64_t now) = 0;
    virtual void delete_session(const std::string& token_hash) = 0;
    virtual int purge_sessions(std::int64_t now) = 0;

    // Upstream keys
    virtual std::vector<id_t> add_keys(const std::vector<std::string>& secrets,
                                       const std::string& base_url,
                                       const std::vector<std::string>& models,
                                       const std::string& note, const std::string& provider,
                                       std::int64_t now) = 0;
    virtual std::vector<key_row> keys() = 0;
    virtual bool remove_key(id_t id) = 0;
    virtual bool set_key_enabled(id_t id, bool enabled) = 0;
    // Adds each key's usage to its counters; writes its health only where it changed.
    virtual void save_key_usage(const std::vector<upstream::key_usage>& used) = 0;
    virtual void add_key_events(const std::vector<key_event_row>& events) = 0;
    virtual std::vector<key_event_row> key_events(id_t key_id, int limit) = 0;  // newest first

    // Models
    virtual std::vector<model_row> models() = 0;
    virtual void upsert_model(const model_row& m) = 0;
    virtual bool remove_model(const std::string& id) = 0;
    // Learnt from an answer that carried reasoning; true when the flag was newly set.
    virtual bool mark_model_reasoning(const std::string& id) = 0;

    // Roles and preset questions. upsert_* with id 0 add a row; they return its id.
    virtual std::vector<role_row> roles() = 0;
    virtual std::optional<role_row> role(id_t id) = 0;
    virtual id_t upsert_role(const role_row& r) = 0;
    virtual bool remove_role(id_t id) = 0;
    virtual std::vector<preset_row> presets() = 0;
    virtual id_t upsert_preset(const preset_row& p) = 0;
    virtual bool remove_preset(id_t id) = 0;

    // Recharge cards. generate_cards draws codes from `new_code` (billing::new_card_code) and
    // returns them (normalised) in order; redemption is billing's (billing/credits.hpp).
    virtual std::vector<std::string> generate_cards(const std::string& batch, std::int64_t count,
                                                    std::int64_t questions, std::int64_t days,
                                                    std::optional<std::int64_t> redeem_before,
                                                    std::int64_t now,
                                                    const std::function<std::string()>& new_code) = 0;
    virtual std::vector<card_row> cards(const std::string& batch, const std::string& status,
                                        const page_cursor& page, std::int64_t now,
                                        std::optional<std::string>& next) = 0;
    virtual std::vector<batch_row> card_batches(std::int64_t now) = 0;
    virtual std::int64_t revoke_cards(const std::vector<std::string>& codes,
                                      const std::string& batch, std::int64_t now) = 0;

    // Settings (operator's run-time values)
    virtual std::map<std::string, std::string> settings() = 0;
    virtual void set_setting(const std::string& key, const std::string& value) = 0;

    // Chat. start_* first let `admit` refuse the asker on their load (and count the question
    // when it does not), then charge the asker what `plan` decides, in the same transaction,
    // and hand the question's branch to `read_branch`.
    virtual started_answer start_question(const question& q, const charge_planner& plan,
                                          const branch_reader& read_branch, std::int64_t now,
                                          const load_check& admit = {}) = 0;
    // `attachments`, when given, replace the question's own before its branch is read.
    virtual started_answer start_regenerate(id_t user_id, id_t assistant_message_id,
                                            const std::optional<std::vector<std::string>>& attachments,
                                            const charge_planner& plan, const branch_reader& read_branch,
                                            std::int64_t now, const load_check& admit = {}) = 0;
    virtual void save_partial(const std::vector<partial_answer>& answers) = 0;
    // Final state; refunds the charge when asked. Returns the owner's balance afterwards.
    virtual balance finish_answer(const finished_answer& f, std::int64_t now) = 0;
    // Start-up: answers left streaming by a crash become interrupted and are refunded — on a
    // database several instances share, only those this instance was writing.
    virtual int interrupt_streaming(std::int64_t now) = 0;

    // Instances sharing the database (PostgreSQL; on SQLite, with one process per file, these
    // do nothing and this process leads every job). Times are the database's clock.
    // Start-up: records this instance as alive.
    virtual void register_instance() = 0;
    // Records this instance as alive still. A beat more than half `timeout_s` after the
    // previous one (the database, or this instance, was away) starts its steady beating anew.
    // False when its row had gone (another instance took it for dead and interrupted its
    // answers): it is recorded again.
    virtual bool heartbeat(int timeout_s) = 0;
    // Instances other than this one not seen for `timeout_s` seconds: their streaming answers
    // become interrupted and are refunded, as at start-up, and their rows go. Only once this
    // instance has beaten steadily for `timeout_s` itself: after the database was away, every
    // live instance gets that long to beat again before any is taken for dead.
    virtual std::vector<swept_instance> sweep_dead_instances(int timeout_s, std::int64_t now) = 0;
    // Whether this instance runs `job` now: true while it holds the job's lock, which it then
    // keeps until its connection ends (a crash releases it; another instance takes over on its
    // next round). False while another instance holds it.
    virtual bool try_lead(background_job job) = 0;

    virtual std::optional<message_row> message(id_t id) = 0;
    // A user's own list (web history), with the questions asked through the API when the user
    // chose so; for operators, every user's (or user_id's, when non-zero), deleted ones included.
    enum class conversation_view { web, web_and_api, operator_view };
    virtual std::vector<conversation_row> conversations(id_t user_id, const std::string& query,
                                                        const page_cursor& page,
                                                        std::optional<std::string>& next,
                                                        conversation_view view = conversation_view::web) = 0;
    virtual std::optional<conversation_row> conversation(id_t id) = 0;
    virtual std::vector<message_row> conversation_messages(id_t conversation_id) = 0;
    virtual bool rename_conversation(id_t user_id, id_t id, const std::string& title,
                                     std::int64_t now) = 0;
    virtual bool delete_conversation(id_t user_id, id_t id, std::int64_t now) = 0;
    virtual bool pin_conversation(id_t user_id, id_t id, bool pinned) = 0;

    // Uploads
    virtual void add_upload(const upload_row& u) = 0;
    virtual std::optional<upload_row> upload(const std::string& id) = 0;  // with its text
    virtual std::vector<upload_row> attachments_of(id_t message_id) = 0;  // without text
    // As add_upload, with the upload's bytes kept in `blobs` in the same transaction, so no
    // process sees the upload before its bytes: for databases several instances share.
    virtual void add_upload_with_blob(const upload_row& u, const std::string& bytes) = 0;
    // The bytes kept in `blobs` for this hash; nullopt when none are.
    virtual std::optional<std::string> blob(const std::string& hash) = 0;
    // Forgets the uploads of a conversation's questions; returns the blob hashes no upload uses
    // any more (their rows in `blobs` gone in the same transaction), for the caller to delete
    // from disk once this has committed.
    virtual std::vector<std::string> forget_uploads(id_t conversation_id) = 0;
    // Uploads nobody sent with a question, older than `before`: forgotten likewise.
    virtual std::vector<std::string> forget_unsent_uploads(std::int64_t before) = 0;

    // WeChat login state shared by instances on one database (wechat_logins.cpp). Expired
    // rows are swept as new ones are added, so the tables stay bounded.
    // The browser's QR login that nobody scanned and that lives past `min_expires_at`, with
    // its invite replaced (a reload shows the same code).
    virtual std::optional<wechat_login_row> reuse_wechat_login(const std::string& browser,
                                                               const std::string& invite,
                                                               std::int64_t min_expires_at) = 0;
    // Adds a pending QR login in place of the browser's previous one; false when `capacity`
    // logins are pending.
    virtual bool add_wechat_login(const wechat_login_row& row, std::int64_t now, std::int64_t capacity) = 0;
    // The scan: binds `openid` to the scene's live login (`ticket`, when not empty, must match).
    virtual wechat_scan bind_wechat_login(const std::string& scene, const std::string& ticket,
                                          const std::string& openid, std::int64_t now) = 0;
    // The poll of `browser`'s login by `ticket`. A scanned or expired one is deleted as it is
    // returned, so it is handed out once whoever polls; a pending one comes back with no
    // openid and stays; none when there is no such login.
    virtual std::optional<wechat_login_row> take_wechat_login(const std::string& ticket, const std::string& browser,
                                                              std::int64_t now) = 0;
    virtual wechat_code_added add_wechat_code(const std::string& code_hash, const std::string& openid,
                                              std::int64_t expires_at, std::int64_t now, std::int64_t capacity) = 0;
    // One attempt at a code within the site-wide budget of `budget` wrong codes per window:
    // while it is spent the code is not even looked up. A found code is spent (deleted); a
    // wrong or expired one takes a slot of the budget.
    virtual wechat_code_attempt redeem_wechat_code(const std::string& code_hash, std::int64_t now_ms,
                                                   std::int64_t window_ms, int budget) = 0;
    // A push signed (timestamp/nonce) `signature` carrying `message`; both are remembered for
    // `keep_s` seconds. The first delivery of a message (on any instance) gets `first`.
    virtual wechat_push_admission admit_wechat_push(const std::string& signature, const std::string& message,
                                                    std::int64_t now, std::int64_t keep_s) = 0;
    virtual void answer_wechat_push(const std::string& message, const std::string& reply) = 0;
    // Handling the first delivery failed: a retry is handled afresh.
    virtual void forget_wechat_push(const std::string& message) = 0;
    // The account's shared access token (`account`: API base and appid); empty when none.
    virtual wechat_token_row wechat_token(const std::string& account) = 0;
    // Takes the lease on fetching a new token until `lease_until`, unless another instance
    // holds it; returns the row as it was when taken.
    virtual std::optional<wechat_token_row> lease_wechat_token(const std::string& account, std::int64_t now,
                                                               std::int64_t lease_until) = 0;
    // Stores a fetched token and ends the lease; `forced_at`: the fetch was a forced refresh.
    virtual void save_wechat_token(const std::string& account, const std::string& token,
                                   std::int64_t valid_until, std::optional<std::int64_t> forced_at) = 0;
    // The fetch failed: the lease ends without a token.
    virtual void release_wechat_token(const std::string& account) = 0;
    // WeChat called `token` stale: no instance hands it out again.
    virtual void reject_wechat_token(const std::string& account, const std::string& token) = 0;

    // Rate limits that hold across instances (rate_hits.cpp; times in milliseconds). Records a
    // hit in each of `buckets` if each has fewer than `limit` within the last `window_ms`, or in
    // none, and returns whether it did. The caller's limit is taken here because counting and
    // recording must be one step under the buckets' locks: apart, two instances could both take
    // the last place.
    virtual bool record_hits(const std::vector<std::string>& buckets, int limit, std::int64_t window_ms,
                             std::int64_t now_ms) = 0;
    // Takes back one hit recorded at `at_ms`: the attempt turned out not to count.
    virtual void forget_hit(const std::string& bucket, std::int64_t at_ms) = 0;
    virtual void forget_hits(const std::string& bucket) = 0;
    // Drops every hit older than `before_ms`, of buckets nobody hits again too; returns how many.
    virtual int prune_hits(std::int64_t before_ms) = 0;

    // Operations
    virtual void audit(const audit_row& entry) = 0;
    void audit(std::int64_t at, const std::string& actor, const std::string& via,
               const std::string& method, const std::string& params_json) {
        audit(audit_row{.at = at, .actor = actor, .via = via, .method = method, .params = params_json});
    }
    virtual status_counts counts() = 0;
    virtual std::vector<audit_row> audit_log(const page_cursor& page,
                                             std::optional<std::string>& next) = 0;
    // The last `days` days up to `now`, oldest first.
    virtual std::vector<day_stats> stats(int days, std::int64_t now) = 0;
    // The same period per model, most used first.
    virtual std::vector<model_usage> usage_by_model(int days, std::int64_t now) = 0;
    // Operator search over every message (FTS, see text_search.hpp); `expression` from
    // search_expression(). Cursors are "m<message id>".
    virtual std::vector<conversation_row> search_conversations(
        const std::string& expression, const page_cursor& page,
        std::optional<std::string>& next) = 0;
    // Indexes up to `batch` messages older than the search index; 0 when there are none left.
    virtual int backfill_search(int batch) = 0;
    // Indexes up to `batch` of the new messages waiting for the search index, oldest first, in
    // one transaction; how many it took, or nullopt where the backend keeps no index of its own
    // (PostgreSQL's trigram index follows every write).
    virtual std::optional<int> index_queued_search(int batch) = 0;
    // Consistency: ids of users whose ledger does not sum to their balance.
    virtual std::vector<id_t> ledger_mismatches() = 0;
    // A consistent copy of everything into a new file at `path`; returns its size in bytes.
    // Must run outside any transaction (database::run_alone).
    virtual std::int64_t backup_to(const std::string& path) = 0;
};

}  // namespace chatd::store
