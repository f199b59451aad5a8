// Instances sharing one PostgreSQL database: the dead-instance sweep and the background jobs'
// locks. On SQLite (one process per file) the same calls let this process lead everything.

#include <catch2/catch.hpp>
#include <thread>

#include "billing/credits.hpp"
#include "store/housekeeping.hpp"
#include "store/postgres/schema.hpp"
#include "store/store.hpp"
#include "temp_db.hpp"

using namespace chatd;
using testing::temp_db;

namespace {

// One more instance on temp_db's PostgreSQL database, as another chatd process would open it.
std::unique_ptr<store::postgres_store> other_instance(const temp_db& t, const std::string& name) {
    return std::make_unique<store::postgres_store>(
        testing::postgres_database_url(testing::postgres_server(), t.postgres_name), name);
}

store::started_answer ask(store::store& st, store::id_t user, std::int64_t now) {
    store::question q;
    q.user_id = user;
    q.content = "slow question";
    q.model = "gpt-4o-mini";
    return st.start_question(q, billing::question_charge(1, now), [](store::branch_message) { return true; }, now);
}

int refunds_of(store::store& st, store::id_t user) {
    std::optional<std::string> next;
    int n = 0;
    for (const auto& row : st.ledger(user, store::page_cursor{}, next)) n += row.reason == "refund";
    return n;
}

}  // namespace

TEST_CASE("a heartbeat is beaten no sooner than every half second and no later than every 5 s") {
    CHECK(store::heartbeat_interval(std::chrono::seconds(30)) == std::chrono::seconds(5));
    CHECK(store::heartbeat_interval(std::chrono::seconds(6)) == std::chrono::seconds(1));
    CHECK(store::heartbeat_interval(std::chrono::seconds(3)) == std::chrono::milliseconds(500));
    CHECK(store::heartbeat_interval(std::chrono::seconds(3600)) == std::chrono::seconds(5));
}

TEST_CASE("a job's lead stays with the first instance until its connection ends", "[both]") {
    temp_db t;
    CHECK(t.st->try_lead(store::background_job::order_sync));
    CHECK(t.st->try_lead(store::background_job::order_sync));  // asked again each round
    if (!t.postgres) return;  // SQLite: one process per file leads every job

    auto b = other_instance(t, "b:1");
    CHECK_FALSE(b->try_lead(store::background_job::order_sync));
    // Another job has a lock of its own.
    CHECK(b->try_lead(store::background_job::upload_sweep));
    CHECK_FALSE(t.st->try_lead(store::background_job::upload_sweep));
    // Asked many times, the lock is held once: a single unlock frees it.
    for (int i = 0; i < 3; ++i) CHECK(t.st->try_lead(store::background_job::order_sync));
    auto key = std::to_string(static_cast<std::int64_t>(store::pg::lock_key::jobs) +
                              static_cast<int>(store::background_job::order_sync));
    t.exec("SELECT pg_advisory_unlock(" + key + ")");
    CHECK(b->try_lead(store::background_job::order_sync));
    CHECK_FALSE(t.st->try_lead(store::background_job::order_sync));
    // The leader dies: its session ends (the server notices within moments) and the lock with it.
    b.reset();
    bool taken_over = false;
    for (int i = 0; i < 50 && !taken_over; ++i) {
        taken_over = t.st->try_lead(store::background_job::order_sync);
        if (!taken_over) std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    CHECK(taken_over);
}

TEST_CASE("a dead instance's answers are interrupted and refunded once; a live one's are left", "[both]") {
    temp_db t;
    t.st->register_instance();
    auto u = testing::new_user(*t.st, "alice", 5, 100);
    if (!t.postgres) {
        CHECK(t.st->heartbeat(30));
        CHECK(t.st->sweep_dead_instances(0, 200).empty());
        return;
    }
    auto a = other_instance(t, "a:1");
    a->register_instance();
    auto answer_of_a = ask(*a, u.id, 101);
    auto answer_of_live = ask(*t.st, u.id, 102);
    CHECK(t.st->balance_of(u.id).trial == 3);

    // Recently seen: nobody is swept.
    CHECK(t.st->sweep_dead_instances(30, 200).empty());
    // a:1 falls silent (as if killed 100 s ago); this instance stays fresh.
    t.exec("UPDATE instances SET seen_at = seen_at - 100 WHERE name = 'a:1'");
    // But it started beating just now: a:1 may be away for the same reason (the database was).
    CHECK(t.st->sweep_dead_instances(30, 200).empty());
    t.exec("UPDATE instances SET beating_since = beating_since - 100 WHERE name = 'test:1'");
    auto swept = t.st->sweep_dead_instances(30, 200);
    REQUIRE(swept.size() == 1);
    CHECK(swept[0].name == "a:1");
    CHECK(swept[0].interrupted == 1);
    CHECK(t.st->message(answer_of_a.message_id)->status == "interrupted");
    CHECK(t.st->message(answer_of_live.message_id)->status == "streaming");
    CHECK(t.st->balance_of(u.id).trial == 4);
    CHECK(refunds_of(*t.st, u.id) == 1);

    // Swept twice, or a:1 finishing the answer after all: no second refund.
    CHECK(t.st->sweep_dead_instances(30, 201).empty());
    store::finished_answer late;
    late.message_id = answer_of_a.message_id;
    late.status = "failed";
    late.refund = true;
    a->finish_answer(late, 202);
    CHECK(t.st->message(answer_of_a.message_id)->status == "interrupted");
    CHECK(t.st->balance_of(u.id).trial == 4);
    CHECK(refunds_of(*t.st, u.id) == 1);
    CHECK(t.st->ledger_mismatches().empty());

    // a:1 was alive after all: its next heartbeat says so and records it again.
    CHECK_FALSE(a->heartbeat(30));
    CHECK(a->heartbeat(30));

    // A gap in this instance's own beats (the database was away) starts its count anew.
    t.exec("UPDATE instances SET seen_at = seen_at - 100 WHERE name = 'a:1'");
    t.exec("UPDATE instances SET seen_at = seen_at - 20, beating_since = beating_since - 100 WHERE name = 'test:1'");
    CHECK(t.st->heartbeat(30));
    CHECK(t.st->sweep_dead_instances(30, 203).empty());
    CHECK(t.st->message(answer_of_live.message_id)->status == "streaming");
}
