// Limits counted in the database (rate_hits), on both backends: hits within a window, taking
// one back, pruning, and the asker's load a question is let in on.

#include <catch2/catch.hpp>

#include "billing/credits.hpp"
#include "store/store.hpp"
#include "temp_db.hpp"

using namespace chatd;
using testing::temp_db;

namespace {

const store::branch_reader everything = [](store::branch_message) { return true; };

store::question question_of(store::id_t user, std::optional<store::id_t> conv = {}) {
    store::question x;
    x.user_id = user;
    x.content = "hello";
    x.conversation_id = conv;
    x.model = "gpt-4o-mini";
    return x;
}

bool record_hit(temp_db& t, const std::string& bucket, int limit, std::int64_t window_ms, std::int64_t now_ms) {
    return t.st->record_hits({bucket}, limit, window_ms, now_ms);
}

}  // namespace

TEST_CASE("rate hits: a limit per window, refused attempts not counted", "[both]") {
    temp_db t;
    const std::int64_t minute = 60'000;
    CHECK(record_hit(t, "login:ip:1.2.3.4", 2, minute, 1'000));
    CHECK(record_hit(t, "login:ip:1.2.3.4", 2, minute, 2'000));
    CHECK_FALSE(record_hit(t, "login:ip:1.2.3.4", 2, minute, 3'000));
    CHECK(record_hit(t, "login:ip:5.6.7.8", 2, minute, 3'000));  // buckets apart
    // The first hit leaves the window at 61 s: one place again, and only one.
    CHECK_FALSE(record_hit(t, "login:ip:1.2.3.4", 2, minute, 60'999));
    CHECK(record_hit(t, "login:ip:1.2.3.4", 2, minute, 61'000));
    CHECK_FALSE(record_hit(t, "login:ip:1.2.3.4", 2, minute, 61'001));
}

TEST_CASE("rate hits: one taken back, all forgotten, old ones pruned", "[both]") {
    temp_db t;
    const std::int64_t minute = 60'000;
    CHECK(record_hit(t, "redeem:7", 2, minute, 1'000));
    CHECK(record_hit(t, "redeem:7", 2, minute, 1'000));
    t.st->forget_hit("redeem:7", 1'000);  // one of the two
    CHECK(record_hit(t, "redeem:7", 2, minute, 1'500));
    CHECK_FALSE(record_hit(t, "redeem:7", 2, minute, 1'600));
    t.st->forget_hits("redeem:7");
    CHECK(record_hit(t, "redeem:7", 1, minute, 1'700));

    CHECK(record_hit(t, "signup:a", 5, minute, 10'000));
    CHECK(record_hit(t, "signup:b", 5, minute, 20'000));
    CHECK(t.st->prune_hits(15'000) == 2);  // redeem:7's and signup:a's
    CHECK(t.st->prune_hits(15'000) == 0);
    CHECK(t.st->prune_hits(20'001) == 1);
}

TEST_CASE("rate hits: several buckets at once, all or none", "[both]") {
    temp_db t;
    const std::int64_t minute = 60'000;
    const std::vector<std::string> ip_and_name{"login:ip:1.2.3.4", "login:user:\"quoted\\name\""};
    CHECK(t.st->record_hits(ip_and_name, 2, minute, 1'000));
    CHECK(record_hit(t, "login:ip:1.2.3.4", 2, minute, 1'100));  // the address is now full
    // Refused on the address: the name is not counted either.
    CHECK_FALSE(t.st->record_hits(ip_and_name, 2, minute, 1'200));
    CHECK(record_hit(t, ip_and_name[1], 2, minute, 1'300));
    CHECK_FALSE(record_hit(t, ip_and_name[1], 2, minute, 1'400));
    t.st->forget_hit(ip_and_name[1], 1'000);  // the bucket's name survives the array literal
    CHECK(record_hit(t, ip_and_name[1], 2, minute, 1'500));
}

TEST_CASE("a question is let in on the asker's load, counted once let in", "[both]") {
    temp_db t;
    auto u = testing::new_user(*t.st, "alice", 10, 100);
    std::vector<store::asker_load> seen;
    const store::load_check watch = [&seen](const store::asker_load& l) { seen.push_back(l); };
    auto a = t.st->start_question(question_of(u.id), billing::question_charge(1, 100), everything, 100, watch);
    REQUIRE(seen.size() == 1);
    CHECK(seen[0].answers_streaming == 0);
    CHECK(seen[0].questions_last_minute == 0);
    auto b = t.st->start_question(question_of(u.id, a.conversation_id), billing::question_charge(1, 130), everything,
                                  130, watch);
    REQUIRE(seen.size() == 2);
    CHECK(seen[1].answers_streaming == 1);  // a's answer is still being written
    CHECK(seen[1].questions_last_minute == 1);

    // Refused: nothing of the question is written, nor counted, nor charged.
    const store::load_check refuse = [](const store::asker_load& l) {
        if (l.answers_streaming >= 2) throw app_error("busy", "too many answers in progress");
    };
    CHECK_THROWS_AS(t.st->start_question(question_of(u.id, a.conversation_id), billing::question_charge(1, 140),
                                         everything, 140, refuse),
                    app_error);
    CHECK(t.st->conversation_messages(a.conversation_id).size() == 4);
    CHECK(t.st->balance_of(u.id).trial == 8);

    store::finished_answer f;
    f.message_id = a.message_id;
    f.status = "done";
    t.st->finish_answer(f, 141);
    // 161 s: a's question has left the minute, b's has not; b's answer still streams.
    t.st->start_regenerate(u.id, a.message_id, std::nullopt, billing::question_charge(1, 161), everything, 161, watch);
    REQUIRE(seen.size() == 3);
    CHECK(seen[2].answers_streaming == 1);
    CHECK(seen[2].questions_last_minute == 1);
    // Without a check (one instance counts in memory) nothing is counted here.
    t.st->start_question(question_of(u.id), billing::question_charge(1, 162), everything, 162);
    t.st->start_question(question_of(u.id), billing::question_charge(1, 163), everything, 163, watch);
    REQUIRE(seen.size() == 4);
    CHECK(seen[3].questions_last_minute == 2);  // b's and the regeneration
    CHECK(seen[3].answers_streaming == 3);
    (void)b;
}
