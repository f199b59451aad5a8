// The store on a real SQLite file (and, tagged [both], on PostgreSQL too): migrations,
// charging, refunds, the ledger, the branch an answer starts with, and pagination.

#include <catch2/catch.hpp>
#include <filesystem>

#include "billing/balance.hpp"
#include "billing/credits.hpp"
#include "store/store.hpp"
#include "temp_db.hpp"
#include "util/random.hpp"

using namespace chatd;
namespace fs = std::filesystem;

namespace {

using testing::temp_db;

store::question q(store::id_t user, std::string content, std::optional<store::id_t> conv = {}) {
    store::question x;
    x.user_id = user;
    x.content = std::move(content);
    x.conversation_id = conv;
    x.model = "gpt-4o-mini";
    return x;
}

// Reads a whole branch and keeps nothing.
const store::branch_reader everything = [](store::branch_message) { return true; };

// Reads a whole branch into `read`, emptied first.
store::branch_reader collect(std::vector<store::branch_message>& read) {
    read.clear();
    return [&read](store::branch_message m) {
        read.push_back(std::move(m));
        return true;
    };
}

}  // namespace

TEST_CASE("billing: paid first while valid, then trial") {
    billing::balance b{5, 3, 1000};
    auto c = billing::plan_charge(b, 4, 999);
    REQUIRE(c);
    CHECK(c->paid == 3);
    CHECK(c->trial == 1);
    // At the exact expiry second paid credits no longer count.
    c = billing::plan_charge(b, 4, 1000);
    REQUIRE(c);
    CHECK(c->paid == 0);
    CHECK(c->trial == 4);
    CHECK_FALSE(billing::plan_charge(b, 6, 1000));
    CHECK(billing::plan_charge(b, 8, 999));
    CHECK_FALSE(billing::plan_charge(b, 9, 999));
    CHECK(billing::plan_charge(billing::balance{}, 0, 0));
}

TEST_CASE("migrations are versioned and idempotent", "[both]") {
    temp_db t;
    int v = t.st->schema_version();
    CHECK(v >= 1);
    t.st->migrate();
    CHECK(t.st->schema_version() == v);
}

TEST_CASE("a question is charged atomically and a failure refunds it", "[both]") {
    temp_db t;
    auto u = testing::new_user(*t.st, "alice", 2, 100);
    CHECK(u.balance.trial == 2);
    auto a = t.st->start_question(q(u.id, "one"), billing::question_charge(1, 101), everything, 101);
    CHECK(t.st->balance_of(u.id).trial == 1);
    auto b = t.st->start_question(q(u.id, "two", a.conversation_id), billing::question_charge(1, 102), everything, 102);
    CHECK(t.st->balance_of(u.id).trial == 0);
    CHECK_THROWS_AS(t.st->start_question(q(u.id, "three", a.conversation_id), billing::question_charge(1, 103), everything, 103), app_error);
    // Nothing of the refused question was stored.
    CHECK(t.st->conversation_messages(a.conversation_id).size() == 4);

    store::finished_answer f;
    f.message_id = b.message_id;
    f.status = "failed";
    f.refund = true;
    f.error_reason = "upstream_unavailable";
    auto bal = t.st->finish_answer(f, 104);
    CHECK(bal.trial == 1);
    // Finishing twice never refunds twice.
    bal = t.st->finish_answer(f, 105);
    CHECK(bal.trial == 1);
    CHECK(t.st->ledger_mismatches().empty());
}

TEST_CASE("a refund goes back to the buckets the charge came from", "[both]") {
    temp_db t;
    auto u = testing::new_user(*t.st, "mixed", 5, 100);
    billing::grant(*t.st, u.id, 1, 30, "paid", "test", 100);  // one paid credit, valid for 30 days
    auto x = q(u.id, "costly");
    auto a = t.st->start_question(x, billing::question_charge(3, 101), everything, 101);
    auto m = t.st->message(a.message_id);
    CHECK(m->charge_paid == 1);
    CHECK(m->charge_trial == 2);
    auto b = t.st->balance_of(u.id);
    CHECK((b.trial == 3 && b.paid == 0));
    store::finished_answer f;
    f.message_id = a.message_id;
    f.status = "failed";
    f.refund = true;
    b = t.st->finish_answer(f, 102);
    CHECK((b.trial == 5 && b.paid == 1));
    CHECK(t.st->ledger_mismatches().empty());
}

TEST_CASE("the ledger is append-only", "[both]") {
    temp_db t;
    testing::new_user(*t.st, "bob", 3, 100);
    CHECK_THROWS(t.exec("UPDATE ledger SET delta_trial = 100"));
    CHECK_THROWS(t.exec("DELETE FROM ledger"));
}

TEST_CASE("an answer starts with its question's branch and the conversation's prompt", "[both]") {
    temp_db t;
    auto u = testing::new_user(*t.st, "carol", 100, 100);
    auto first = q(u.id, "q1");
    first.system_prompt = "be brief";
    auto a = t.st->start_question(first, billing::question_charge(1, 101), everything, 101);
    CHECK(a.system_prompt == "be brief");
    store::finished_answer f;
    f.message_id = a.message_id;
    f.status = "done";
    f.content = "a1";
    t.st->finish_answer(f, 101);
    std::vector<store::branch_message> read;
    auto b = t.st->start_question(q(u.id, "q2", a.conversation_id), billing::question_charge(1, 102), collect(read), 102);
    // From the question back towards the first message.
    REQUIRE(read.size() == 3);
    CHECK(read[0].content == "q2");
    CHECK(read[1].role == "assistant");
    CHECK(read[1].content == "a1");
    CHECK(read[1].status == "done");
    CHECK(read[2].content == "q1");
    CHECK(b.system_prompt == "be brief");

    // An edit of q2 (a sibling under a1) does not see q2.
    auto edit = q(u.id, "q2 edited", a.conversation_id);
    edit.parent_id = a.message_id;
    t.st->start_question(edit, billing::question_charge(1, 103), collect(read), 103);
    REQUIRE(read.size() == 3);
    CHECK(read[0].content == "q2 edited");

    // A regenerated answer is asked with the branch up to its own question.
    auto r = t.st->start_regenerate(u.id, a.message_id, std::nullopt, billing::question_charge(1, 104), collect(read), 104);
    REQUIRE(read.size() == 1);
    CHECK(read[0].content == "q1");
    CHECK(r.user_message_id == a.user_message_id);

    // The reader decides how far the store reads.
    int handed = 0;
    auto second_is_enough = [&handed](store::branch_message) { return ++handed < 2; };
    t.st->start_question(q(u.id, "q3", a.conversation_id), billing::question_charge(1, 105), second_is_enough, 105);
    CHECK(handed == 2);

    auto plain = t.st->start_question(q(u.id, "no prompt"), billing::question_charge(1, 106), everything, 106);
    CHECK(plain.system_prompt.empty());
}

TEST_CASE("start-up sweep interrupts and refunds streaming answers", "[both]") {
    temp_db t;
    auto u = testing::new_user(*t.st, "dave", 5, 100);
    auto a = t.st->start_question(q(u.id, "q"), billing::question_charge(1, 101), everything, 101);
    t.st->save_partial({{a.message_id, "partial", ""}});
    CHECK(t.st->interrupt_streaming(200) == 1);
    auto m = t.st->message(a.message_id);
    CHECK(m->status == "interrupted");
    CHECK(m->content == "partial");
    CHECK(m->refunded);
    CHECK(t.st->balance_of(u.id).trial == 5);
    CHECK(t.st->ledger_mismatches().empty());
}

TEST_CASE("conversation pages are newest first with a stable cursor", "[both]") {
    temp_db t;
    auto u = testing::new_user(*t.st, "erin", 100, 100);
    std::vector<store::id_t> ids;
    for (int i = 0; i < 5; ++i) ids.push_back(t.st->start_question(q(u.id, "c" + std::to_string(i)), billing::question_charge(1, 100 + i), everything, 100 + i).conversation_id);
    std::optional<std::string> next;
    store::page_cursor page;
    page.limit = 2;
    auto p1 = t.st->conversations(u.id, "", page, next);
    REQUIRE(p1.size() == 2);
    CHECK(p1[0].id == ids[4]);
    REQUIRE(next);
    page.after = next;
    auto p2 = t.st->conversations(u.id, "", page, next);
    CHECK(p2[0].id == ids[2]);
    page.after = next;
    auto p3 = t.st->conversations(u.id, "", page, next);
    CHECK(p3.size() == 1);
    CHECK_FALSE(next);
    store::page_cursor all;
    CHECK(t.st->conversations(u.id, "c3", all, next).size() == 1);
    CHECK(t.st->conversations(u.id, "%", all, next).empty());  // LIKE wildcards are literal
}
