// The operator's full-text search (Chinese and English), the read-only connection, and the
// dashboard's day rollups, on a real database file.
#include <catch2/catch.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_future.hpp>
#include <filesystem>
#include <sqlite3.h>

#include "billing/balance.hpp"
#include "billing/cards.hpp"
#include "billing/credits.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/store.hpp"
#include "store/text_search.hpp"
#include "temp_db.hpp"
#include "util/random.hpp"

using namespace chatd;
namespace fs = std::filesystem;

namespace {

using testing::temp_db;

// A question and its finished answer; returns the conversation.
store::id_t ask(store::store& st, store::id_t user, const std::string& question, const std::string& answer,
                std::int64_t now, std::int64_t first_token_ms = 300) {
    store::question q;
    q.user_id = user;
    q.content = question;
    q.model = "gpt-4o-mini";
    auto started = st.start_question(q, billing::question_charge(1, now), [](store::branch_message) { return true; }, now);
    store::finished_answer f;
    f.message_id = started.message_id;
    f.status = "done";
    f.content = answer;
    f.first_token_ms = first_token_ms;
    st.finish_answer(f, now + 1);
    return started.conversation_id;
}

// What a search finds once the index has taken every queued message (as the search service asks).
std::vector<store::id_t> found(store::store& st, const std::string& typed, int limit = 20) {
    st.index_queued_search(1000);
    store::page_cursor page;
    page.limit = limit;
    std::optional<std::string> next;
    std::vector<store::id_t> ids;
    for (auto& c : st.search_conversations(store::search_expression(typed), page, next)) ids.push_back(c.id);
    return ids;
}

}  // namespace

TEST_CASE("search finds any run of Chinese characters, and English words by prefix", "[both]") {
    temp_db t;
    auto& st = *t.st;
    auto u = testing::new_user(st, "searcher", 100, 1000).id;
    auto quantum = ask(st, u, "请解释量子计算的原理", "量子比特可以同时处于多种状态。", 1000);
    auto python = ask(st, u, "Python 里列表和元组有什么区别？", "A list is mutable; a tuple is not.", 1001);
    auto mixed = ask(st, u, "学习python列表", "好的", 1002);

    CHECK(found(st, "量子") == std::vector<store::id_t>{quantum});
    CHECK(found(st, "子计") == std::vector<store::id_t>{quantum});       // across a word boundary
    CHECK(found(st, "量子计算的原理") == std::vector<store::id_t>{quantum});  // a long run
    CHECK(found(st, "比") == std::vector<store::id_t>{quantum});          // one character, in the answer
    CHECK(found(st, "列表") == std::vector<store::id_t>{mixed, python});  // newest match first
    CHECK(found(st, "PYTH") == std::vector<store::id_t>{mixed, python});  // case-folded prefix
    CHECK(found(st, "python列表") == std::vector<store::id_t>{mixed});    // script change inside a phrase
    CHECK(found(st, "tuple is") == std::vector<store::id_t>{python});
    CHECK(found(st, "计算量子").empty());  // order matters
    CHECK(found(st, "元组区别").empty());  // not adjacent in the text
    CHECK(found(st, "quantum").empty());
    CHECK(store::search_expression("?!  ").empty());
    CHECK(store::search_expression("say \"hi\"") == "\"say \"\"hi\"\"\"");  // ends in a quote: no prefix
    CHECK(store::search_expression("pyth") == "\"pyth\" *");
    // Quotes and FTS syntax in what was typed are just text.
    CHECK(found(st, "list\" OR \"tuple").empty());
}

TEST_CASE("search pages by newest match, each conversation once a page", "[both]") {
    temp_db t;
    auto& st = *t.st;
    auto u = testing::new_user(st, "pager", 100, 1000).id;
    std::vector<store::id_t> convs;
    for (int i = 0; i < 5; ++i) convs.push_back(ask(st, u, "天气怎么样 " + std::to_string(i), "晴天", 1000 + i));
    st.index_queued_search(1000);
    store::page_cursor page;
    page.limit = 2;
    std::optional<std::string> next;
    auto first = st.search_conversations(store::search_expression("天气"), page, next);
    REQUIRE(first.size() == 2);
    CHECK(first[0].id == convs[4]);
    CHECK(first[1].id == convs[3]);
    REQUIRE(next);
    page.after = next;
    auto second = st.search_conversations(store::search_expression("天气"), page, next);
    REQUIRE(second.size() == 2);
    CHECK(second[0].id == convs[2]);
    page.after = next;
    auto third = st.search_conversations(store::search_expression("天气"), page, next);
    CHECK(third.size() == 1);
    CHECK_FALSE(next);
}

TEST_CASE("messages older than the index are indexed by the backfill") {
    temp_db t;
    auto& st = *t.st;
    auto u = testing::new_user(st, "old", 100, 1000).id;
    auto conv = ask(st, u, "旧消息里的关键词", "答案", 1000);
    // As if the index had been created after these messages were written.
    t.sqlite->connection().exec("INSERT INTO message_search (message_search) VALUES ('delete-all')");
    t.sqlite->connection().exec("UPDATE search_backfill SET next_id = 1, below = (SELECT max(id) + 1 FROM messages)");
    t.sqlite->connection().exec("DELETE FROM search_queue");
    CHECK(found(st, "关键词").empty());
    int total = 0;
    while (int n = st.backfill_search(1)) total += n;
    CHECK(total == 2);
    CHECK(found(st, "关键词") == std::vector<store::id_t>{conv});
    CHECK(st.backfill_search(100) == 0);
}

TEST_CASE("new messages wait in the search queue and are indexed a batch at a time, oldest first") {
    temp_db t;
    auto& st = *t.st;
    auto u = testing::new_user(st, "queued", 100, 1000).id;
    auto& db = t.sqlite->connection();
    std::vector<store::id_t> convs;
    for (int i = 0; i < 3; ++i) convs.push_back(ask(st, u, "排队的问题 " + std::to_string(i), "排队的回答", 1000 + i));
    // Only ids were written with the questions and answers; the index has none of them yet.
    CHECK(db.execAndGet("SELECT count(*) FROM search_queue").getInt64() == 6);
    store::page_cursor page;
    std::optional<std::string> next;
    CHECK(st.search_conversations(store::search_expression("排队"), page, next).empty());
    CHECK(st.counts().search_backlog == 6);
    // An id whose message is gone by the time the index gets to it just leaves the queue.
    db.exec("INSERT INTO search_queue (message_id) VALUES (999999)");
    CHECK(st.index_queued_search(4) == 4);  // the first conversation's two messages, then the second's
    CHECK(st.search_conversations(store::search_expression("排队"), page, next).size() == 2);
    CHECK(st.index_queued_search(4) == 3);
    CHECK(st.index_queued_search(4) == 0);
    CHECK(db.execAndGet("SELECT count(*) FROM search_queue").getInt64() == 0);
    CHECK(st.counts().search_backlog == 0);
    CHECK(found(st, "排队的回答") == std::vector<store::id_t>{convs[2], convs[1], convs[0]});
    // An answer that ended with no text has nothing to index.
    store::question q;
    q.user_id = u;
    q.content = "没有回答的问题";
    q.model = "gpt-4o-mini";
    auto started = st.start_question(q, billing::question_charge(1, 2000), [](store::branch_message) { return true; }, 2000);
    store::finished_answer f;
    f.message_id = started.message_id;
    f.status = "failed";
    st.finish_answer(f, 2001);
    CHECK(db.execAndGet("SELECT count(*) FROM search_queue").getInt64() == 1);  // the question only
}

TEST_CASE("indexing the queue reads the queued messages only, however many older ones there are") {
    temp_db t;
    auto& st = *t.st;
    auto& db = t.sqlite->connection();
    auto u = testing::new_user(st, "busy", 100, 1000).id;
    auto conv = ask(st, u, "第一个问题", "回答", 1000);
    st.index_queued_search(1000);
    // SQLite's virtual-machine steps while a question and answer asked just now are indexed.
    auto steps_for_one_more = [&](std::int64_t now) {
        ask(st, u, "新的问题", "新的回答", now);
        long steps = 0;
        sqlite3_progress_handler(db.getHandle(), 1, [](void* n) { return ++*static_cast<long*>(n), 0; }, &steps);
        CHECK(st.index_queued_search(500) == 2);
        sqlite3_progress_handler(db.getHandle(), 0, nullptr, nullptr);
        return steps;
    };
    long few = steps_for_one_more(2000);
    // Twenty thousand older messages, indexed long ago (rows only: nothing queues them).
    db.exec("WITH RECURSIVE n(i) AS (SELECT 1 UNION ALL SELECT i + 1 FROM n WHERE i < 20000) "
            "INSERT INTO messages (conversation_id, role, content, status, created_at) SELECT " +
            std::to_string(conv) + ", 'user', 'old', 'done', 1000 FROM n");
    long many = steps_for_one_more(3000);
    INFO("steps with a few older messages: " << few << ", with 20,000: " << many);
    CHECK(many < few * 3);
    CHECK(found(st, "新的回答").size() == 2);
}

TEST_CASE("day rollups count questions, users, redemptions and latency as they happen", "[both]") {
    temp_db t;
    auto& st = *t.st;
    const std::int64_t now = 1'800'000'000;
    auto a = testing::new_user(st, "a", 10, now).id;
    auto b = testing::new_user(st, "b", 10, now).id;
    ask(st, a, "one", "1", now, 100);
    ask(st, a, "two", "2", now, 200);
    ask(st, b, "three", "3", now, 4000);
    auto codes = st.generate_cards("rollup", 1, 25, 30, std::nullopt, now, billing::new_card_code);
    billing::redeem_card(st, b, codes.at(0), now, 0);
    auto days = st.stats(3, now);
    REQUIRE(days.size() == 3);
    auto& today = days.back();
    CHECK(today.questions == 3);
    CHECK(today.active_users == 2);
    CHECK(today.new_users == 2);
    CHECK(today.redemptions == 1);
    CHECK(today.credits_sold == 25);
    // Histogram buckets are about 5 % wide.
    REQUIRE(today.first_token_p50_ms);
    CHECK(*today.first_token_p50_ms == Approx(200).epsilon(0.06));
    CHECK(*today.first_token_p95_ms == Approx(4000).epsilon(0.06));
    CHECK(days.front().questions == 0);
    CHECK(days.front().date < today.date);
}

TEST_CASE("the read-only connection sees what the writer committed and cannot write") {
    auto dir = fs::temp_directory_path() / ("chatd-read-" + random_hex(6));
    fs::create_directories(dir);
    {
        store::sqlite_database db((dir / "t.db").string());
        db.direct().migrate();
        boost::asio::io_context ioc;
        auto result = boost::asio::co_spawn(
            ioc,
            [&]() -> boost::asio::awaitable<std::pair<bool, std::string>> {
                co_await db.run([](store::store& s) { return testing::new_user(s, "reader", 1, 1).id; });
                auto seen = co_await db.read([](store::store& s) { return s.user_by_username("reader").has_value(); });
                std::string refused;
                try {
                    co_await db.read([](store::store& s) { return testing::new_user(s, "writer", 1, 1).id; });
                } catch (const std::exception& e) {
                    refused = e.what();
                }
                co_return std::pair{seen, refused};
            },
            boost::asio::use_future);
        ioc.run();
        auto [seen, refused] = result.get();
        CHECK(seen);
        CHECK_FALSE(refused.empty());
        db.stop();
    }
    fs::remove_all(dir);
}
