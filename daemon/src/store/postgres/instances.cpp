// The instances sharing the database: their heartbeats, the sweep that finishes the answers of
// those that died, and the locks that make one instance at a time run each background job.
#include "store/postgres/postgres_store.hpp"

#include <algorithm>

#include "store/postgres/schema.hpp"
#include "store/postgres/values.hpp"

namespace chatd::store {

using namespace pg;

namespace {

// Seconds by the database's clock: every instance's heartbeat and every sweep read the same
// clock, so a host whose clock is off can neither pass for dead nor declare others dead.
constexpr const char* database_now = "EXTRACT(EPOCH FROM clock_timestamp())::bigint";

}  // namespace

void postgres_store::register_instance() {
    const std::string now = database_now;
    db_.exec("INSERT INTO instances (name, started_at, beating_since, seen_at) VALUES ($1, " + now + ", " + now +
                 ", " + now + ") ON CONFLICT (name) DO UPDATE SET started_at = EXCLUDED.started_at, "
                 "beating_since = EXCLUDED.beating_since, seen_at = EXCLUDED.seen_at",
             {p(instance_)});
}

bool postgres_store::heartbeat(int timeout_s) {
    const std::string now = database_now;
    auto seen = db_.exec("UPDATE instances SET beating_since = CASE WHEN seen_at < " + now +
                             " - $2 THEN " + now + " ELSE beating_since END, seen_at = " + now + " WHERE name = $1",
                         {p(instance_), p(std::max(1, timeout_s / 2))});
    if (seen.affected() > 0) return true;
    register_instance();
    return false;
}

std::vector<swept_instance> postgres_store::sweep_dead_instances(int timeout_s, std::int64_t now) {
    // One transaction: the rows go with their answers or not at all. Deleting an instance's
    // row waits for a heartbeat that is updating it and then sees it fresh, so an instance
    // that beats in time is never taken for dead.
    transaction t(db_);
    const std::string db_now = database_now;
    auto steady = db_.exec("SELECT 1 FROM instances WHERE name = $1 AND beating_since <= " + db_now + " - $2",
                           {p(instance_), p(timeout_s)});
    if (steady.rows() == 0) {
        t.commit();
        return {};
    }
    auto dead = db_.exec("DELETE FROM instances WHERE name <> $1 AND seen_at < " + db_now + " - $2 RETURNING name",
                         {p(instance_), p(timeout_s)});
    std::vector<swept_instance> out;
    for (int i = 0; i < dead.rows(); ++i) {
        auto name = str(dead, i, 0);
        int interrupted = interrupt_streaming_of(name, "the server writing this answer stopped", now);
        out.push_back({std::move(name), interrupted});
    }
    t.commit();
    return out;
}

bool postgres_store::try_lead(background_job job) {
    // A session lock, held on this (the writer's) connection from the first success on, so the
    // job stays with one instance rather than running on each in turn. Asked again every round:
    // pg_locks tells whether this session holds it still (a reconnect has lost it), and only
    // when not is it taken, so it is never held twice and one unlock would free it.
    auto key = static_cast<std::int64_t>(lock_key::jobs) + static_cast<std::int64_t>(job);
    auto r = db_.exec(
        "SELECT CASE WHEN EXISTS (SELECT 1 FROM pg_locks WHERE locktype = 'advisory' AND granted "
        "AND pid = pg_backend_pid() AND objsubid = 1 "
        "AND ((classid::bigint << 32) | objid::bigint) = $1::bigint) "
        "THEN true ELSE pg_try_advisory_lock($1::bigint) END",
        {p(key)});
    return r.text(0, 0) == "t";
}

}  // namespace chatd::store
