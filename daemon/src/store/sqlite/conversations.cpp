// Conversations and their messages, and the operator's search over them.
#include "store/sqlite/sqlite_store.hpp"

#include <cstdint>
#include <cstdio>
#include <map>
#include <set>

namespace chatd::store {

namespace {

constexpr const char* message_columns =
    "m.id, m.conversation_id, m.parent_id, m.role, m.content, m.status, m.model, m.charge_trial, "
    "m.charge_paid, m.refunded, m.free_reason, m.error_reason, m.error_message, m.prompt_tokens, "
    "m.completion_tokens, m.first_token_ms, m.total_ms, m.created_at, m.finished_at, c.user_id, m.reasoning, "
    "m.reasoning_ms, m.reasoning_tokens, m.tokens_estimated, m.upstream_cost, m.asked_by_admin, m.finish_reason";

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
    m.reasoning = st.getColumn(20).getString();
    m.reasoning_ms = opt_i64(st.getColumn(21));
    m.reasoning_tokens = opt_int(st.getColumn(22));
    m.tokens_estimated = st.getColumn(23).getInt() != 0;
    if (!st.getColumn(24).isNull()) m.upstream_cost = st.getColumn(24).getDouble();
    m.asked_by_admin = st.getColumn(25).getInt() != 0;
    m.finish_reason = text(st.getColumn(26));
    return m;
}

constexpr const char* conversation_columns =
    "c.id, c.user_id, c.title, c.model, c.role_id, c.system_prompt, c.pinned, c.current_leaf_id, "
    "c.created_at, c.updated_at, c.deleted_at, u.name, (SELECT k.name FROM user_api_keys k WHERE k.id = c.user_api_key_id)";

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
    if (!st.getColumn(12).isNull()) c.api_key_name = st.getColumn(12).getString();
    return c;
}

}  // namespace

std::optional<message_row> sqlite_store::message(id_t id) {
    stmt st = prepare(std::string("SELECT ") + message_columns +
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return read_message(st);
}

std::vector<conversation_row> sqlite_store::conversations(id_t user_id, const std::string& query,
                                                          const page_cursor& page,
                                                          std::optional<std::string>& next, conversation_view view) {
    // Keyset pagination over (pinned, updated_at, id), newest first, pinned on top.
    std::int64_t cp = 2, cu = INT64_MAX, ci = INT64_MAX;
    if (page.after) {
        if (std::sscanf(page.after->c_str(), "%ld:%ld:%ld", &cp, &cu, &ci) != 3)
            throw app_error("invalid_params", "bad cursor");
    }
    std::string sql = std::string("SELECT ") + conversation_columns +
        " FROM conversations c JOIN users u ON u.id = c.user_id WHERE "
        "(c.pinned < ? OR (c.pinned = ? AND (c.updated_at < ? OR (c.updated_at = ? AND c.id < ?))))";
    if (user_id) sql += " AND c.user_id = ?";
    if (view != conversation_view::operator_view) sql += " AND c.deleted_at IS NULL";
    // Questions asked through the API are the operator's to see, in the web history by choice.
    if (view == conversation_view::web) sql += " AND c.user_api_key_id IS NULL";
    if (!query.empty())
        sql += " AND (c.title LIKE ? ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m WHERE "
               "m.conversation_id = c.id AND m.content LIKE ? ESCAPE '\\'))";
    sql += " ORDER BY c.pinned DESC, c.updated_at DESC, c.id DESC LIMIT ?";
    stmt st = prepare(sql);
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

std::optional<conversation_row> sqlite_store::conversation(id_t id) {
    stmt st = prepare(std::string("SELECT ") + conversation_columns +
        " FROM conversations c JOIN users u ON u.id = c.user_id WHERE c.id = ?");
    st.bind(1, id);
    if (!st.executeStep()) return std::nullopt;
    return read_conversation(st);
}

std::vector<message_row> sqlite_store::conversation_messages(id_t conversation_id) {
    stmt st = prepare(std::string("SELECT ") + message_columns +
        " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.conversation_id = ? ORDER BY m.id");
    st.bind(1, conversation_id);
    std::vector<message_row> out;
    while (st.executeStep()) out.push_back(read_message(st));
    stmt at = prepare(
        "SELECT a.message_id, u.id, u.user_id, u.hash, u.name, u.mime, u.kind, u.size, u.chars, u.created_at "
        "FROM message_attachments a JOIN uploads u ON u.id = a.upload_id JOIN messages m ON m.id = a.message_id "
        "WHERE m.conversation_id = ? ORDER BY a.message_id, a.position");
    at.bind(1, conversation_id);
    std::map<id_t, message_row*> by_id;
    for (auto& m : out) by_id[m.id] = &m;
    while (at.executeStep()) {
        auto it = by_id.find(at.getColumn(0).getInt64());
        if (it == by_id.end()) continue;
        upload_row u;
        u.id = at.getColumn(1).getString();
        u.user_id = at.getColumn(2).getInt64();
        u.hash = at.getColumn(3).getString();
        u.name = at.getColumn(4).getString();
        u.mime = at.getColumn(5).getString();
        u.kind = at.getColumn(6).getString();
        u.size = at.getColumn(7).getInt64();
        u.chars = at.getColumn(8).getInt64();
        u.created_at = at.getColumn(9).getInt64();
        it->second->attachments.push_back(std::move(u));
    }
    return out;
}

bool sqlite_store::rename_conversation(id_t user_id, id_t id, const std::string& title, std::int64_t now) {
    stmt st = prepare(
        "UPDATE conversations SET title = ?, updated_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL");
    st.bind(1, title);
    st.bind(2, now);
    st.bind(3, id);
    st.bind(4, user_id);
    return st.exec() > 0;
}

bool sqlite_store::delete_conversation(id_t user_id, id_t id, std::int64_t now) {
    stmt st = prepare(
        "UPDATE conversations SET deleted_at = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL");
    st.bind(1, now);
    st.bind(2, id);
    st.bind(3, user_id);
    return st.exec() > 0;
}

bool sqlite_store::pin_conversation(id_t user_id, id_t id, bool pinned) {
    stmt st = prepare(
        "UPDATE conversations SET pinned = ? WHERE id = ? AND user_id = ? AND deleted_at IS NULL");
    st.bind(1, pinned ? 1 : 0);
    st.bind(2, id);
    st.bind(3, user_id);
    return st.exec() > 0;
}

void sqlite_store::queue_for_search(id_t message_id, const std::string& content) {
    // Older messages are the background backfill's (see migration 008).
    if (search_backfill_below_ == 0)
        search_backfill_below_ = db_.execAndGet("SELECT below FROM search_backfill").getInt64();
    if (message_id < search_backfill_below_ || content.empty()) return;
    stmt st = prepare("INSERT OR IGNORE INTO search_queue (message_id) VALUES (?)");
    st.bind(1, message_id);
    st.exec();
}

std::vector<conversation_row> sqlite_store::search_conversations(const std::string& expression, const page_cursor& page,
                                                                 std::optional<std::string>& next) {
    // Newest matching message first; each conversation once per page, by its newest match.
    std::int64_t before = INT64_MAX;
    if (page.after) {
        if (std::sscanf(page.after->c_str(), "m%ld", &before) != 1) throw app_error("invalid_params", "bad cursor");
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

}  // namespace chatd::store
