#pragma once
// Rows as the rest of the daemon sees them. Times are Unix seconds.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "upstream/key_record.hpp"

namespace chatd::store {

using id_t = std::int64_t;

// A user's credits as stored; what they are worth at a given time is billing's rule.
struct balance {
    std::int64_t trial = 0;
    std::int64_t paid = 0;
    std::optional<std::int64_t> paid_expires_at;  // null when there are no paid credits
};

// What a question takes from each bucket (billing::plan_charge decides).
struct charge {
    std::int64_t trial = 0, paid = 0;
};

struct user_row {
    id_t id = 0;
    std::optional<std::string> username;
    std::string password_hash;
    std::string name;
    std::optional<std::string> avatar;
    bool is_admin = false;
    bool banned = false;
    std::string theme;
    std::string invite_code;
    store::balance balance;
    std::int64_t created_at = 0;
    std::optional<id_t> invited_by;
    std::optional<std::string> wechat_openid, wechat_unionid;
    bool api_enabled = true;        // the operator's switch for the user's API keys
    bool show_api_history = false;  // the user's: API conversations in the web history too
};

// What a user may change of their own account; each field left empty stays as it is.
struct profile_change {
    std::optional<std::string> name, theme;
    std::optional<bool> show_api_history;
};

struct ledger_row {
    id_t id = 0;
    std::int64_t at = 0;
    std::int64_t delta_trial = 0, delta_paid = 0;
    std::string reason, ref;
};

using key_row = upstream::key_record;

struct key_event_row {
    id_t key_id = 0;
    std::int64_t at = 0;
    std::string status, reason;
};

struct audit_row {
    id_t id = 0;
    std::int64_t at = 0;
    std::string actor, via, method, params;  // params: JSON text
    std::string address;                     // the client's IP for web sessions
    std::string before, after;               // JSON text; empty when not recorded
};

// Token usage, what it cost upstream and the credits it earned (charged, not refunded).
struct usage_totals {
    std::int64_t questions = 0, prompt_tokens = 0, completion_tokens = 0, reasoning_tokens = 0;
    double upstream_cost = 0;
    std::int64_t credits = 0;
};

struct day_stats {
    std::string date;  // YYYY-MM-DD, server local time
    std::int64_t questions = 0, new_users = 0, active_users = 0, redemptions = 0, credits_sold = 0;
    std::int64_t orders = 0, paid_cents = 0;  // orders paid that day and what they brought
    std::int64_t api_questions = 0;           // of `questions`, those asked through the API
    std::optional<std::int64_t> first_token_p50_ms, first_token_p95_ms;
    usage_totals usage;  // of the questions asked that day that have ended
};

struct model_usage {
    std::string model;
    usage_totals usage;
};

struct model_row {
    std::string id;
    std::string name;
    std::string upstream_model;
    int cost = 1;
    int max_messages = 20;
    int max_context_chars = 16000;
    bool enabled = true;
    int sort = 0;
    bool vision = false;                // accepts image attachments
    bool reasoning = false;             // thinks before it answers (shown to visitors as a badge)
    int max_tokens = 0;                 // sent upstream when > 0
    std::string stream_usage = "auto";  // auto | on | off: ask for the usage chunk (stream_options)
    double price_in = 0, price_out = 0;  // the upstream's price per 1,000,000 prompt / completion tokens
    int image_cost = 0;                 // extra credits per attached image
};

struct role_row {
    id_t id = 0;
    std::string name;
    std::string description;
    std::string prompt;
    int sort = 0;
    bool enabled = true;
};

struct preset_row {
    id_t id = 0;
    std::string text;
    int sort = 0;
};

struct page_cursor {
    std::optional<std::string> after;
    int limit = 20;
};

// One page of a listing and the cursor of the next (none on the last page).
template <class Row>
struct page {
    std::vector<Row> items;
    std::optional<std::string> next;
};

struct card_row {
    std::string code;  // normalised, no dashes
    std::string batch;
    std::int64_t questions = 0, days = 0;
    std::optional<std::int64_t> redeem_before;
    std::string status;  // unused | used | revoked | expired (an unused card past redeem_before)
    std::optional<id_t> redeemed_by;
    std::optional<std::int64_t> redeemed_at;
    std::int64_t created_at = 0;
};

struct batch_row {
    std::string name;
    std::int64_t questions = 0, days = 0;
    std::optional<std::int64_t> redeem_before;
    std::int64_t count = 0, unused = 0, used = 0, revoked = 0, expired = 0;
    std::int64_t created_at = 0;
};

struct conversation_row {
    id_t id = 0;
    id_t user_id = 0;
    std::string title;
    std::string model;
    std::optional<id_t> role_id;
    std::string system_prompt;
    bool pinned = false;
    std::optional<id_t> current_leaf_id;
    std::int64_t created_at = 0, updated_at = 0;
    std::optional<std::int64_t> deleted_at;
    std::string username;  // owner's display name, for the operator's logs
    std::optional<std::string> api_key_name;  // asked through the API with this key
};

// A user's personal API key as stored: its hash only, and a few characters to show it masked.
struct api_key_row {
    id_t id = 0;
    id_t user_id = 0;
    std::string name;
    std::string shown_prefix, shown_suffix;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> last_used_at;
};

// Who calls the API with a key: the key's owner and the key.
struct api_caller {
    user_row user;
    id_t key_id = 0;
    std::string key_name;
    std::optional<std::int64_t> last_used_at;
};

// An image or file a user uploaded to attach to questions.
struct upload_row {
    std::string id;
    id_t user_id = 0;
    std::string hash;  // SHA-256 of the bytes, their name in the blob store
    std::string name, mime;
    std::string kind;  // image | file
    std::int64_t size = 0;
    std::string text;  // a file's text; empty for images (and in listings, which leave it out)
    std::int64_t chars = 0;
    std::int64_t created_at = 0;
};

struct message_row {
    id_t id = 0;
    id_t conversation_id = 0;
    std::optional<id_t> parent_id;
    std::string role;  // user | assistant
    std::string content;
    std::string reasoning;  // what a reasoning model thought before answering; never sent back
    std::vector<upload_row> attachments;  // a question's images and files (without their text)
    std::optional<std::int64_t> reasoning_ms;
    std::string status;  // streaming | done | stopped | failed | interrupted
    std::string model;
    std::int64_t charge_trial = 0, charge_paid = 0;
    bool asked_by_admin = false;  // an operator trying the site: charged nothing
    bool refunded = false;
    std::string free_reason, error_reason, error_message;
    std::string finish_reason;  // the upstream's, when it gave one
    std::optional<int> prompt_tokens, completion_tokens, reasoning_tokens;
    bool tokens_estimated = false;
    std::optional<double> upstream_cost;
    std::optional<std::int64_t> first_token_ms, total_ms;
    std::int64_t created_at = 0;
    std::optional<std::int64_t> finished_at;
    id_t user_id = 0;  // the conversation's owner
};

// An answer's text while it is being written, saved now and then.
struct partial_answer {
    id_t message_id = 0;
    std::string content, reasoning;
};

// One message on the way from a question up to its conversation's first message.
struct branch_message {
    std::string role;  // user | assistant
    std::string content;
    std::string status;  // as in message_row
    std::vector<upload_row> attachments;  // a question's, with their text
};

// WeChat login state that instances on one database share (wechat/shared_login_state.hpp).
struct wechat_login_row {
    std::string ticket, scene, browser, invite;
    std::string openid;  // empty until scanned
    std::string qr_url;
    std::int64_t expires_at = 0;
};

enum class wechat_scan { bound, expired, taken };
enum class wechat_code_added { added, clash, full };

struct wechat_code_attempt {
    bool refused = false;               // the budget of wrong codes is spent: nothing was checked
    std::optional<std::string> openid;  // the code was right and is now spent
};

struct wechat_push_admission {
    enum class verdict { first, retry, reused } what = verdict::first;
    std::string reply;  // for a retry: the first delivery's reply (empty while it is handled)
};

struct wechat_token_row {
    std::string token;
    std::int64_t valid_until = 0;
    std::string rejected;  // the last token WeChat called stale
    std::int64_t last_forced = 0;
};

// Background jobs that must not run on two instances sharing a database at once; each leads
// under a lock of its own (store::try_lead). The values are part of the lock keys: never reuse one.
enum class background_job : int {
    key_recheck = 1,     // re-testing invalid upstream keys
    order_sync = 2,      // the payments' minute job
    upload_sweep = 3,    // forgetting uploads nobody sent
    session_purge = 4,   // deleting expired sessions
    instance_sweep = 5,  // finishing the answers of instances that died
};

// An instance the dead-instance sweep removed, and how many of its answers it interrupted.
struct swept_instance {
    std::string name;
    int interrupted = 0;
};

}  // namespace chatd::store
