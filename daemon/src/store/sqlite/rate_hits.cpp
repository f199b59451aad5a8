// Rate limits counted in the database: rate_hits, pruned as they age. A single SQLite instance
// counts in memory instead; these keep the store's interface whole and its tests on both backends.
#include "store/sqlite/sqlite_store.hpp"

namespace chatd::store {

bool sqlite_store::record_hits(const std::vector<std::string>& buckets, int limit, std::int64_t window_ms,
                               std::int64_t now_ms) {
    // One writer thread: nothing else hits between the counts and the inserts.
    savepoint t(db_);
    for (const auto& bucket : buckets) {
        {
            stmt prune = prepare("DELETE FROM rate_hits WHERE bucket = ? AND at <= ?");
            prune.bind(1, bucket);
            prune.bind(2, now_ms - window_ms);
            prune.exec();
        }
        stmt count = prepare("SELECT count(*) FROM rate_hits WHERE bucket = ?");
        count.bind(1, bucket);
        count.executeStep();
        if (count.getColumn(0).getInt64() >= limit) return false;  // the savepoint rolls back
    }
    for (const auto& bucket : buckets) {
        stmt add = prepare("INSERT INTO rate_hits (bucket, at) VALUES (?, ?)");
        add.bind(1, bucket);
        add.bind(2, now_ms);
        add.exec();
    }
    t.commit();
    return true;
}

void sqlite_store::forget_hit(const std::string& bucket, std::int64_t at_ms) {
    stmt st = prepare("DELETE FROM rate_hits WHERE rowid = (SELECT rowid FROM rate_hits WHERE bucket = ? AND at = ? LIMIT 1)");
    st.bind(1, bucket);
    st.bind(2, at_ms);
    st.exec();
}

void sqlite_store::forget_hits(const std::string& bucket) {
    stmt st = prepare("DELETE FROM rate_hits WHERE bucket = ?");
    st.bind(1, bucket);
    st.exec();
}

int sqlite_store::prune_hits(std::int64_t before_ms) {
    stmt st = prepare("DELETE FROM rate_hits WHERE at < ?");
    st.bind(1, before_ms);
    return st.exec();
}

// Inside start_*'s savepoint, before anything is written for the question.
void sqlite_store::admit_asker(id_t user_id, const load_check& admit, std::int64_t now) {
    if (!admit) return;
    const auto bucket = questions_bucket(user_id);
    const std::int64_t minute_ago_ms = (now - 60) * 1000;
    {
        stmt prune = prepare("DELETE FROM rate_hits WHERE bucket = ? AND at <= ?");
        prune.bind(1, bucket);
        prune.bind(2, minute_ago_ms);
        prune.exec();
    }
    asker_load load;
    {
        stmt st = prepare(
            "SELECT (SELECT count(*) FROM messages m JOIN conversations c ON c.id = m.conversation_id "
            "        WHERE m.status = 'streaming' AND c.user_id = ?), "
            "       (SELECT count(*) FROM rate_hits WHERE bucket = ?)");
        st.bind(1, user_id);
        st.bind(2, bucket);
        st.executeStep();
        load = {st.getColumn(0).getInt64(), st.getColumn(1).getInt64()};
    }
    admit(load);
    stmt add = prepare("INSERT INTO rate_hits (bucket, at) VALUES (?, ?)");
    add.bind(1, bucket);
    add.bind(2, now * 1000);
    add.exec();
}

}  // namespace chatd::store
