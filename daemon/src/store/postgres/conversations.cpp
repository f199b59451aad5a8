// Conversations and their messages, and the operator's search over them.
#include "store/postgres/postgres_store.hpp"

#include <cctype>
#include <cstdint>
#include <cstdio>
#include <map>
#include <stdexcept>
#include <string_view>

#include "store/paging.hpp"
#include "store/postgres/values.hpp"

namespace chatd::store {

using namespace pg;

namespace {

constexpr const char* message_columns =
    "m.id, m.conversation_id, m.parent_id, m.role, m.content, m.status, m.model, m.charge_trial, "
    "m.charge_paid, m.refunded, m.free_reason, m.error_reason, m.error_message, m.prompt_tokens, "
    "m.completion_tokens, m.first_token_ms, m.total_ms, m.created_at, m.finished_at, c.user_id, m.reasoning, "
    "m.reasoning_ms, m.reasoning_tokens, m.tokens_estimated, m.upstream_cost, m.asked_by_admin, m.finish_reason";

message_row read_message(const result& r, int row) {
    message_row m;
    m.id = i64(r, row, 0);
    m.conversation_id = i64(r, row, 1);
    m.parent_id = opt_i64(r, row, 2);
    m.role = str(r, row, 3);
    m.content = str(r, row, 4);
    m.status = str(r, row, 5);
    m.model = str(r, row, 6);
    m.charge_trial = i64(r, row, 7);
    m.charge_paid = i64(r, row, 8);
    m.refunded = flag(r, row, 9);
    m.free_reason = str(r, row, 10);
    m.error_reason = str(r, row, 11);
    m.error_message = str(r, row, 12);
    m.prompt_tokens = opt_int(r, row, 13);
    m.completion_tokens = opt_int(r, row, 14);
    m.first_token_ms = opt_i64(r, row, 15);
    m.total_ms = opt_i64(r, row, 16);
    m.created_at = i64(r, row, 17);
    m.finished_at = opt_i64(r, row, 18);
    m.user_id = i64(r, row, 19);
    m.reasoning = str(r, row, 20);
    m.reasoning_ms = opt_i64(r, row, 21);
    m.reasoning_tokens = opt_int(r, row, 22);
    m.tokens_estimated = flag(r, row, 23);
    if (!r.is_null(row, 24)) m.upstream_cost = real(r, row, 24);
    m.asked_by_admin = flag(r, row, 25);
    m.finish_reason = str(r, row, 26);
    return m;
}

constexpr const char* conversation_columns =
    "c.id, c.user_id, c.title, c.model, c.role_id, c.system_prompt, c.pinned, c.current_leaf_id, "
    "c.created_at, c.updated_at, c.deleted_at, u.name, (SELECT k.name FROM user_api_keys k WHERE k.id = c.user_api_key_id)";

conversation_row read_conversation(const result& r, int row) {
    conversation_row c;
    c.id = i64(r, row, 0);
    c.user_id = i64(r, row, 1);
    c.title = str(r, row, 2);
    c.model = str(r, row, 3);
    c.role_id = opt_i64(r, row, 4);
    c.system_prompt = str(r, row, 5);
    c.pinned = flag(r, row, 6);
    c.current_leaf_id = opt_i64(r, row, 7);
    c.created_at = i64(r, row, 8);
    c.updated_at = i64(r, row, 9);
    c.deleted_at = opt_i64(r, row, 10);
    c.username = str(r, row, 11);
    if (!r.is_null(row, 12)) c.api_key_name = str(r, row, 12);
    return c;
}

// SQLite answers the operator's search with FTS5; here the same expression (see
// text_search.hpp) becomes a condition on messages.content, each phrase a substring matched by
// ILIKE, which the trigram index messages_search serves. FTS5's grammar: phrases side by side
// are ANDed and bind tightest, then NOT (binary: "a NOT b"), then AND, then OR; "a + b" is one
// phrase and a trailing * makes a prefix, which a substring already is. NEAR, column filters
// and ^ have no use here and are refused, as FTS5 refuses any other syntax error.
class search_condition {
public:
    search_condition(std::string_view expression, std::vector<param>& params) : in_(expression), params_(params) {}

    std::string parse() {
        auto sql = or_expr();
        if (peek() != token::end) fail();
        return sql;
    }

private:
    enum class token { end, word, string, lparen, rparen, plus, star, kw_and, kw_or, kw_not };

    std::string or_expr() {
        auto sql = and_expr();
        while (peek() == token::kw_or) {
            next();
            sql = "(" + sql + " OR " + and_expr() + ")";
        }
        return sql;
    }

    std::string and_expr() {
        auto sql = not_expr();
        while (peek() == token::kw_and) {
            next();
            sql = "(" + sql + " AND " + not_expr() + ")";
        }
        return sql;
    }

    std::string not_expr() {
        auto sql = primary();
        while (peek() == token::kw_not) {
            next();
            sql = "(" + sql + " AND NOT " + primary() + ")";
        }
        return sql;
    }

    // A parenthesised expression, or phrases side by side.
    std::string primary() {
        if (peek() == token::lparen) {
            next();
            auto sql = or_expr();
            if (peek() != token::rparen) fail();
            next();
            return sql;
        }
        auto sql = phrase();
        while (peek() == token::word || peek() == token::string) sql = "(" + sql + " AND " + phrase() + ")";
        return sql;
    }

    std::string phrase() {
        std::string text;
        for (;;) {
            auto t = peek();
            if (t != token::word && t != token::string) fail();
            next();
            if (!text.empty()) text += ' ';
            text += value_;
            if (peek() == token::star) next();
            if (peek() != token::plus) break;
            next();
        }
        // FTS5 finds nothing for a phrase without a word in it.
        if (!searchable(text)) return "FALSE";
        params_.push_back(like_pattern(text));
        return "m.content ILIKE $" + std::to_string(params_.size()) + " ESCAPE '\\'";
    }

    static bool searchable(std::string_view text) {
        for (unsigned char c : text)
            if (c >= 0x80 || std::isalnum(c) || c == '_') return true;
        return false;
    }

    static bool bareword_char(unsigned char c) { return c >= 0x80 || std::isalnum(c) || c == '_' || c == 0x1A; }

    token peek() {
        if (!peeked_) {
            kind_ = scan();
            peeked_ = true;
        }
        return kind_;
    }

    void next() { peeked_ = false; }

    token scan() {
        while (at_ < in_.size() && std::isspace(static_cast<unsigned char>(in_[at_]))) ++at_;
        start_ = at_;
        if (at_ == in_.size()) return token::end;
        char c = in_[at_++];
        switch (c) {
            case '(': return token::lparen;
            case ')': return token::rparen;
            case '+': return token::plus;
            case '*': return token::star;
            case '"': {
                // "" inside a string is one quote.
                value_.clear();
                for (;;) {
                    if (at_ == in_.size()) fail();
                    char ch = in_[at_++];
                    if (ch != '"') {
                        value_ += ch;
                    } else if (at_ < in_.size() && in_[at_] == '"') {
                        value_ += '"';
                        ++at_;
                    } else {
                        return token::string;
                    }
                }
            }
            default: break;
        }
        if (!bareword_char(static_cast<unsigned char>(c))) fail();
        while (at_ < in_.size() && bareword_char(static_cast<unsigned char>(in_[at_]))) ++at_;
        value_ = std::string(in_.substr(start_, at_ - start_));
        if (value_ == "AND") return token::kw_and;
        if (value_ == "OR") return token::kw_or;
        if (value_ == "NOT") return token::kw_not;
        return token::word;
    }

    [[noreturn]] void fail() {
        throw std::runtime_error("search: syntax error near \"" + std::string(in_.substr(start_)) + "\"");
    }

    std::string_view in_;
    std::vector<param>& params_;
    std::size_t at_ = 0, start_ = 0;
    bool peeked_ = false;
    token kind_ = token::end;
    std::string value_;
};

}  // namespace

std::optional<message_row> postgres_store::message(id_t id) {
    auto r = db_.exec(std::string("SELECT ") + message_columns +
                          " FROM messages m JOIN conversations c ON c.id = m.conversation_id WHERE m.id = $1",
                      {p(id)});
    if (r.rows() == 0) return std::nullopt;
    return read_message(r, 0);
}

std::vector<conversation_row> postgres_store::conversations(id_t user_id, const std::string& query,
                                                            const page_cursor& page,
                                                            std::optional<std::string>& next, conversation_view view) {
    // Keyset pagination over (pinned, updated_at, id), newest first, pinned on top.
    std::int64_t cp = 2, cu = INT64_MAX, ci = INT64_MAX;
    if (page.after) {
        if (std::sscanf(page.after->c_str(), "%ld:%ld:%ld", &cp, &cu, &ci) != 3)
            throw app_error("invalid_params", "bad cursor");
    }
    std::vector<param> params{p(cp), p(cu), p(ci)};
    std::string sql = std::string("SELECT ") + conversation_columns +
        " FROM conversations c JOIN users u ON u.id = c.user_id WHERE "
        "(c.pinned < $1 OR (c.pinned = $1 AND (c.updated_at < $2 OR (c.updated_at = $2 AND c.id < $3))))";
    if (user_id) {
        params.push_back(p(user_id));
        sql += " AND c.user_id = $" + std::to_string(params.size());
    }
    if (view != conversation_view::operator_view) sql += " AND c.deleted_at IS NULL";
    // Questions asked through the API are the operator's to see, in the web history by choice.
    if (view == conversation_view::web) sql += " AND c.user_api_key_id IS NULL";
    if (!query.empty()) {
        // ILIKE: SQLite's LIKE ignores case.
        params.push_back(like_pattern(query));
        auto n = "$" + std::to_string(params.size());
        sql += " AND (c.title ILIKE " + n + " ESCAPE '\\' OR EXISTS (SELECT 1 FROM messages m WHERE "
               "m.conversation_id = c.id AND m.content ILIKE " + n + " ESCAPE '\\'))";
    }
    params.push_back(p(page.limit + 1));
    sql += " ORDER BY c.pinned DESC, c.updated_at DESC, c.id DESC LIMIT $" + std::to_string(params.size());
    auto r = db_.exec(sql, params);
    std::vector<conversation_row> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_conversation(r, i));
    finish_page(out, page.limit, next, [](const auto& c) {
        return std::to_string(c.pinned ? 1 : 0) + ":" + std::to_string(c.updated_at) + ":" +
               std::to_string(c.id);
    });
    return out;
}

std::optional<conversation_row> postgres_store::conversation(id_t id) {
    auto r = db_.exec(std::string("SELECT ") + conversation_columns +
                          " FROM conversations c JOIN users u ON u.id = c.user_id WHERE c.id = $1",
                      {p(id)});
    if (r.rows() == 0) return std::nullopt;
    return read_conversation(r, 0);
}

std::vector<message_row> postgres_store::conversation_messages(id_t conversation_id) {
    auto r = db_.exec(std::string("SELECT ") + message_columns +
                          " FROM messages m JOIN conversations c ON c.id = m.conversation_id "
                          "WHERE m.conversation_id = $1 ORDER BY m.id",
                      {p(conversation_id)});
    std::vector<message_row> out;
    for (int i = 0; i < r.rows(); ++i) out.push_back(read_message(r, i));
    auto at = db_.exec(
        "SELECT a.message_id, u.id, u.user_id, u.hash, u.name, u.mime, u.kind, u.size, u.chars, u.created_at "
        "FROM message_attachments a JOIN uploads u ON u.id = a.upload_id JOIN messages m ON m.id = a.message_id "
        "WHERE m.conversation_id = $1 ORDER BY a.message_id, a.position",
        {p(conversation_id)});
    std::map<id_t, message_row*> by_id;
    for (auto& m : out) by_id[m.id] = &m;
    for (int i = 0; i < at.rows(); ++i) {
        auto it = by_id.find(i64(at, i, 0));
        if (it == by_id.end()) continue;
        upload_row u;
        u.id = str(at, i, 1);
        u.user_id = i64(at, i, 2);
        u.hash = str(at, i, 3);
        u.name = str(at, i, 4);
        u.mime = str(at, i, 5);
        u.kind = str(at, i, 6);
        u.size = i64(at, i, 7);
        u.chars = i64(at, i, 8);
        u.created_at = i64(at, i, 9);
        it->second->attachments.push_back(std::move(u));
    }
    return out;
}

bool postgres_store::rename_conversation(id_t user_id, id_t id, const std::string& title, std::int64_t now) {
    auto r = db_.exec(
        "UPDATE conversations SET title = $1, updated_at = $2 WHERE id = $3 AND user_id = $4 AND deleted_at IS NULL",
        {p(title), p(now), p(id), p(user_id)});
    return r.affected() > 0;
}

bool postgres_store::delete_conversation(id_t user_id, id_t id, std::int64_t now) {
    auto r = db_.exec("UPDATE conversations SET deleted_at = $1 WHERE id = $2 AND user_id = $3 AND deleted_at IS NULL",
                      {p(now), p(id), p(user_id)});
    return r.affected() > 0;
}

bool postgres_store::pin_conversation(id_t user_id, id_t id, bool pinned) {
    auto r = db_.exec("UPDATE conversations SET pinned = $1 WHERE id = $2 AND user_id = $3 AND deleted_at IS NULL",
                      {p(pinned), p(id), p(user_id)});
    return r.affected() > 0;
}

std::vector<conversation_row> postgres_store::search_conversations(const std::string& expression,
                                                                   const page_cursor& page,
                                                                   std::optional<std::string>& next) {
    // Newest matching message first; each conversation once per page, by its newest match.
    std::int64_t before = INT64_MAX;
    if (page.after) {
        if (std::sscanf(page.after->c_str(), "m%ld", &before) != 1) throw app_error("invalid_params", "bad cursor");
    }
    std::vector<param> params{p(before), p(page.limit + 1)};
    auto condition = search_condition(expression, params).parse();
    // SQLite indexes an answer only once it is finished: one still streaming is not found yet.
    auto r = db_.exec(std::string("WITH hits AS (SELECT m.conversation_id, max(m.id) AS at FROM messages m "
                                  "WHERE m.id < $1 AND m.status <> 'streaming' AND ") +
                          condition + " GROUP BY m.conversation_id) SELECT " + conversation_columns +
                          ", h.at FROM hits h JOIN conversations c ON c.id = h.conversation_id "
                          "JOIN users u ON u.id = c.user_id ORDER BY h.at DESC LIMIT $2",
                      params);
    std::vector<conversation_row> out;
    std::vector<std::int64_t> at;
    for (int i = 0; i < r.rows(); ++i) {
        out.push_back(read_conversation(r, i));
        at.push_back(i64(r, i, 13));  // after conversation_columns
    }
    next.reset();
    if (static_cast<int>(out.size()) > page.limit) {
        out.pop_back();
        next = "m" + std::to_string(at[out.size() - 1]);
    }
    return out;
}

}  // namespace chatd::store
