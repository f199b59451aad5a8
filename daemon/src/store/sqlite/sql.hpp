#pragma once
// What every noun of the SQLite store shares: cached prepared statements, binding and
// reading optional values and nested transactions (savepoints); keyset pages are store/paging.hpp's.
#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>

#include <cstdint>
#include <memory>
#include <optional>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "store/paging.hpp"

namespace chatd::store {

// A prepared statement from the cache, reset when the handle goes, so no half-read statement
// keeps a read transaction open. Every use binds all of its parameters.
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

// Preparing costs more than running most of the store's statements: each SQL text is
// prepared once per connection and kept.
class statement_cache {
public:
    explicit statement_cache(SQLite::Database& db) : db_(db) {}
    stmt prepare(const std::string& sql);

private:
    SQLite::Database& db_;
    std::unordered_map<std::string, std::unique_ptr<SQLite::Statement>> statements_;
};

// A transaction that nests: at top level SAVEPOINT begins one and RELEASE commits it; inside
// the database thread's batch (see database.hpp) it is a nested part that can roll back alone.
class savepoint {
public:
    explicit savepoint(SQLite::Database& db);
    ~savepoint();
    savepoint(const savepoint&) = delete;
    savepoint& operator=(const savepoint&) = delete;
    void commit();

private:
    SQLite::Database& db_;
    bool done_ = false;
};

// NULL for an empty optional (or an empty text).
void bind_opt(SQLite::Statement& st, int i, const std::optional<std::int64_t>& v);
void bind_opt(SQLite::Statement& st, int i, const std::optional<int>& v);
void bind_text_or_null(SQLite::Statement& st, int i, const std::string& v);
// An empty optional (or text) for NULL.
std::optional<std::int64_t> opt_i64(const SQLite::Column& c);
std::optional<int> opt_int(const SQLite::Column& c);
std::string text(const SQLite::Column& c);

}  // namespace chatd::store
