#include "store/sqlite/sql.hpp"

namespace chatd::store {

stmt statement_cache::prepare(const std::string& sql) {
    auto& slot = statements_[sql];
    if (!slot) slot = std::make_unique<SQLite::Statement>(db_, sql);
    return stmt(*slot);
}

savepoint::savepoint(SQLite::Database& db) : db_(db) { db_.exec("SAVEPOINT store_tx"); }

savepoint::~savepoint() {
    if (done_) return;
    try {
        db_.exec("ROLLBACK TO store_tx");
        db_.exec("RELEASE store_tx");
    } catch (const std::exception&) {
        // The enclosing batch, if any, rolls back as a whole.
    }
}

void savepoint::commit() {
    db_.exec("RELEASE store_tx");
    done_ = true;
}

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

}  // namespace chatd::store
