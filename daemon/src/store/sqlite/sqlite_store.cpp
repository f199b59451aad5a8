#include "store/sqlite/sqlite_store.hpp"

#include "store/migrations.hpp"
#include "store/text_search.hpp"

namespace chatd::store {

sqlite_store::sqlite_store(const std::string& path, access mode)
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

sqlite_store::~sqlite_store() = default;

int sqlite_store::schema_version() { return db_.execAndGet("PRAGMA user_version").getInt(); }

void sqlite_store::migrate() {
    int current = schema_version();
    for (const auto& m : migrations()) {
        if (m.version <= current) continue;
        savepoint t(db_);
        db_.exec(std::string(m.sql));
        db_.exec("PRAGMA user_version=" + std::to_string(m.version));
        t.commit();
    }
}

}  // namespace chatd::store
