#pragma once
// The store on PostgreSQL: one connection. Its methods live beside this file, one noun a file,
// each the twin of store/sqlite/'s file of the same name; values.hpp holds what they share.
#include <string>

#include "store/postgres/pg.hpp"
#include "store/store.hpp"

namespace chatd::store {

class postgres_store final : public store {
public:
    // `url`: libpq's connection string or URI. Throws pg::error when the server is unreachable.
    // `instance`: this process's name among those sharing the database (host:port); it marks
    // the answers it writes, so a restart interrupts only its own.
    postgres_store(const std::string& url, std::string instance);
    ~postgres_store() override;

    // postgres_store.cpp
    void migrate() override;
    int schema_version() override;

    // accounts.cpp: users, grants, the ledger, invites and sessions
    user_row create_password_user(const std::string& username, const std::string& password_hash,
                                  bool is_admin, std::int64_t now) override;
    user_row create_wechat_user(const std::string& openid, const std::optional<std::string>& unionid,
                                std::int64_t now) override;
    std::optional<user_row> user_by_openid(const std::string& openid) override;
    void set_unionid(id_t user_id, const std::string& unionid) override;
    std::vector<user_row> users(const std::string& query, const page_cursor& page,
                                std::optional<std::string>& next) override;
    void set_banned(id_t user_id, bool banned) override;
    std::vector<ledger_row> ledger(id_t user_id, const page_cursor& page,
                                   std::optional<std::string>& next) override;
    invite_stats invites(id_t user_id) override;
    std::optional<user_row> user_by_username(const std::string& username) override;
    std::optional<user_row> user_by_id(id_t id) override;
    void update_user(id_t id, const profile_change& change) override;
    balance balance_of(id_t user_id) override;
    // The ledger port (store/ledger.hpp), for billing's rules.
    void atomically(const std::function<void()>& work) override;
    void set_balance(id_t user_id, const balance& b) override;
    void append_ledger(id_t user_id, std::int64_t at, std::int64_t delta_trial, std::int64_t delta_paid,
                       const std::string& reason, const std::string& ref) override;
    std::optional<id_t> inviter_of(id_t user_id) override;
    std::optional<id_t> user_by_invite_code(const std::string& code) override;
    void set_inviter(id_t user_id, id_t inviter_id) override;
    card_claim claim_card(const std::string& code, id_t user_id, std::int64_t now) override;
    void count_sale(std::int64_t at, std::int64_t questions) override;
    std::optional<order_claim> claim_order(const std::string& order_no, const std::string& trade_no,
                                           std::int64_t now) override;
    void count_paid_order(std::int64_t at, std::int64_t questions, std::int64_t cents) override;
    // accounts.cpp: personal API keys
    id_t add_api_key(const api_key_row& key, const std::string& key_hash, int most) override;
    std::vector<api_key_row> api_keys(id_t user_id) override;
    bool revoke_api_key(id_t user_id, id_t key_id, std::int64_t now) override;
    std::optional<api_caller> find_api_key(const std::string& key_hash) override;
    void note_api_key_used(id_t key_id, std::int64_t now) override;
    bool set_api_enabled(id_t user_id, bool enabled) override;
    void create_session(const std::string& token_hash, id_t user_id, std::int64_t now,
                        std::int64_t expires_at, const std::string& ip,
                        const std::string& user_agent) override;
    std::optional<user_row> session_user(const std::string& token_hash, std::int64_t now) override;
    void delete_session(const std::string& token_hash) override;
    int purge_sessions(std::int64_t now) override;

    // keys.cpp
    std::vector<id_t> add_keys(const std::vector<std::string>& secrets, const std::string& base_url,
                               const std::vector<std::string>& models, const std::string& note,
                               const std::string& provider, std::int64_t now) override;
    std::vector<key_row> keys() override;
    bool remove_key(id_t id) override;
    bool set_key_enabled(id_t id, bool enabled) override;
    void save_key_usage(const std::vector<upstream::key_usage>& used) override;
    void add_key_events(const std::vector<key_event_row>& events) override;
    std::vector<key_event_row> key_events(id_t key_id, int limit) override;

    // catalog.cpp: models, roles, preset questions and settings
    std::vector<model_row> models() override;
    void upsert_model(const model_row& m) override;
    bool remove_model(const std::string& id) override;
    bool mark_model_reasoning(const std::string& id) override;
    std::vector<role_row> roles() override;
    std::optional<role_row> role(id_t id) override;
    id_t upsert_role(const role_row& r) override;
    bool remove_role(id_t id) override;
    std::vector<preset_row> presets() override;
    id_t upsert_preset(const preset_row& p) override;
    bool remove_preset(id_t id) override;
    std::map<std::string, std::string> settings() override;
    void set_setting(const std::string& key, const std::string& value) override;

    // cards.cpp
    std::vector<std::string> generate_cards(const std::string& batch, std::int64_t count,
                                            std::int64_t questions, std::int64_t days,
                                            std::optional<std::int64_t> redeem_before, std::int64_t now,
                                            const std::function<std::string()>& new_code) override;
    std::vector<card_row> cards(const std::string& batch, const std::string& status,
                                const page_cursor& page, std::int64_t now,
                                std::optional<std::string>& next) override;
    std::vector<batch_row> card_batches(std::int64_t now) override;
    std::int64_t revoke_cards(const std::vector<std::string>& codes, const std::string& batch,
                              std::int64_t now) override;

    // orders.cpp: plans, orders and what channels said of them
    std::vector<plan_row> plans() override;
    std::optional<plan_row> plan(id_t id) override;
    id_t upsert_plan(const plan_row& p, std::int64_t now) override;
    bool remove_plan(id_t id) override;
    void add_order(const order_row& o) override;
    void set_order_links(const std::string& order_no, const std::string& qr_url, const std::string& pay_url,
                         const std::string& trade_no) override;
    std::optional<order_row> order(const std::string& order_no) override;
    std::vector<order_row> orders(const order_filter& filter, const page_cursor& page,
                                  std::optional<std::string>& next) override;
    std::int64_t pending_orders_of(id_t user_id, std::int64_t now) override;
    std::vector<order_row> pending_orders(int limit) override;
    bool close_order(const std::string& order_no, std::int64_t now) override;
    void add_order_event(const order_event_row& e) override;
    std::vector<order_event_row> order_events(const std::string& order_no) override;

    // answers.cpp
    started_answer start_question(const question& q, const charge_planner& plan,
                                  const branch_reader& read_branch, std::int64_t now,
                                  const load_check& admit = {}) override;
    started_answer start_regenerate(id_t user_id, id_t assistant_message_id,
                                    const std::optional<std::vector<std::string>>& attachments,
                                    const charge_planner& plan, const branch_reader& read_branch,
                                    std::int64_t now, const load_check& admit = {}) override;
    // rate_hits.cpp
    bool record_hits(const std::vector<std::string>& buckets, int limit, std::int64_t window_ms,
                     std::int64_t now_ms) override;
    void forget_hit(const std::string& bucket, std::int64_t at_ms) override;
    void forget_hits(const std::string& bucket) override;
    int prune_hits(std::int64_t before_ms) override;
    void add_upload(const upload_row& u) override;
    std::optional<upload_row> upload(const std::string& id) override;
    std::vector<upload_row> attachments_of(id_t message_id) override;
    void add_upload_with_blob(const upload_row& u, const std::string& bytes) override;
    std::optional<std::string> blob(const std::string& hash) override;
    std::vector<std::string> forget_uploads(id_t conversation_id) override;
    std::vector<std::string> forget_unsent_uploads(std::int64_t before) override;
    void save_partial(const std::vector<partial_answer>& answers) override;
    balance finish_answer(const finished_answer& f, std::int64_t now) override;
    int interrupt_streaming(std::int64_t now) override;

    // instances.cpp: the heartbeat, the dead-instance sweep and the jobs' locks
    void register_instance() override;
    bool heartbeat(int timeout_s) override;
    std::vector<swept_instance> sweep_dead_instances(int timeout_s, std::int64_t now) override;
    bool try_lead(background_job job) override;

    // conversations.cpp: conversations, messages and the operator's search
    std::optional<message_row> message(id_t id) override;
    std::vector<conversation_row> conversations(id_t user_id, const std::string& query,
                                                const page_cursor& page,
                                                std::optional<std::string>& next,
                                                conversation_view view) override;
    std::optional<conversation_row> conversation(id_t id) override;
    std::vector<message_row> conversation_messages(id_t conversation_id) override;
    bool rename_conversation(id_t user_id, id_t id, const std::string& title,
                             std::int64_t now) override;
    bool delete_conversation(id_t user_id, id_t id, std::int64_t now) override;
    bool pin_conversation(id_t user_id, id_t id, bool pinned) override;
    std::vector<conversation_row> search_conversations(const std::string& expression,
                                                       const page_cursor& page,
                                                       std::optional<std::string>& next) override;

    // operations.cpp: the audit log, counts and day rollups, consistency, backup, search backfill
    using store::audit;
    void audit(const audit_row& entry) override;
    status_counts counts() override;
    std::vector<audit_row> audit_log(const page_cursor& page,
                                     std::optional<std::string>& next) override;
    std::vector<day_stats> stats(int days, std::int64_t now) override;
    std::vector<model_usage> usage_by_model(int days, std::int64_t now) override;
    int backfill_search(int batch) override;
    std::optional<int> index_queued_search(int) override { return std::nullopt; }
    std::vector<id_t> ledger_mismatches() override;
    std::int64_t backup_to(const std::string& path) override;

    // wechat_logins.cpp: QR logins, one-time codes, the budget of wrong codes, pushes, the token
    std::optional<wechat_login_row> reuse_wechat_login(const std::string& browser, const std::string& invite,
                                                       std::int64_t min_expires_at) override;
    bool add_wechat_login(const wechat_login_row& row, std::int64_t now, std::int64_t capacity) override;
    wechat_scan bind_wechat_login(const std::string& scene, const std::string& ticket, const std::string& openid,
                                  std::int64_t now) override;
    std::optional<wechat_login_row> take_wechat_login(const std::string& ticket, const std::string& browser,
                                                      std::int64_t now) override;
    wechat_code_added add_wechat_code(const std::string& code_hash, const std::string& openid,
                                      std::int64_t expires_at, std::int64_t now, std::int64_t capacity) override;
    wechat_code_attempt redeem_wechat_code(const std::string& code_hash, std::int64_t now_ms,
                                           std::int64_t window_ms, int budget) override;
    wechat_push_admission admit_wechat_push(const std::string& signature, const std::string& message,
                                            std::int64_t now, std::int64_t keep_s) override;
    void answer_wechat_push(const std::string& message, const std::string& reply) override;
    void forget_wechat_push(const std::string& message) override;
    wechat_token_row wechat_token(const std::string& account) override;
    std::optional<wechat_token_row> lease_wechat_token(const std::string& account, std::int64_t now,
                                                       std::int64_t lease_until) override;
    void save_wechat_token(const std::string& account, const std::string& token, std::int64_t valid_until,
                           std::optional<std::int64_t> forced_at) override;
    void release_wechat_token(const std::string& account) override;
    void reject_wechat_token(const std::string& account, const std::string& token) override;

    // For batching and read transactions.
    pg::connection& connection() { return db_; }

private:
    // Parts of the transactions above, inside the caller's savepoint.
    void admit_asker(id_t user_id, const load_check& admit, std::int64_t now);
    void open_answer(id_t user_id, started_answer& out, const charge_planner& plan,
                     const branch_reader& read_branch, std::int64_t now);
    void feed_branch(id_t conversation_id, id_t leaf_id, const branch_reader& read);
    // The answers `instance` left streaming become interrupted (`why`: their error message) and
    // are refunded; how many.
    int interrupt_streaming_of(const std::string& instance, const std::string& why, std::int64_t now);
    void attach_uploads(id_t message_id, const std::vector<std::string>& upload_ids);
    std::vector<upload_row> attachments_with_text(id_t message_id);
    // Deletes these uploads (id, hash) and the blobs no upload uses any more; returns their hashes.
    std::vector<std::string> forget(const std::vector<std::pair<std::string, std::string>>& uploads);
    // The dashboard's day rollups, counted as things happen.
    enum class day_counter { questions, new_users, redemptions, credits_sold, api_questions };
    void count_day(std::int64_t at, day_counter what, std::int64_t by);
    void count_active(std::int64_t at, id_t user_id);
    void count_latency(std::int64_t at, std::int64_t first_token_ms);
    void count_usage(std::int64_t asked_at, const std::string& model, const usage_totals& u);

    pg::connection db_;
    std::string instance_;
};

}  // namespace chatd::store
