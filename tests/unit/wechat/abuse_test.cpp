// WeChat login against guessing and replay: the site-wide budget of wrong codes and what the
// callback remembers of signed pushes.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "wechat/guess_budget.hpp"
#include "wechat/push_memory.hpp"

using namespace chatd::wechat;
using std::chrono::seconds;

TEST_CASE("the guess budget refuses every attempt once it is used up, until the window has room") {
    guess_budget budget(30, seconds(60));
    auto t0 = guess_budget::clock::now();
    for (int i = 0; i < 30; ++i) REQUIRE(budget.reserve(t0 + seconds(i)));
    CHECK_FALSE(budget.reserve(t0 + seconds(30)));
    CHECK_FALSE(budget.reserve(t0 + seconds(59)));
    CHECK(budget.refused() == 2);
    // The first slot leaves the window at t0 + 60: one attempt is let through, then none.
    CHECK(budget.reserve(t0 + seconds(60)));
    CHECK(budget.refused() == 0);
    CHECK_FALSE(budget.reserve(t0 + seconds(60)));
}

TEST_CASE("a right code gives its slot back, a wrong one keeps it") {
    guess_budget budget(3, seconds(60));
    auto t0 = guess_budget::clock::now();
    for (int i = 0; i < 10; ++i) {
        auto slot = budget.reserve(t0 + seconds(i));
        REQUIRE(slot);
        budget.give_back(*slot);
    }
    for (int i = 0; i < 3; ++i) REQUIRE(budget.reserve(t0 + seconds(20)));
    CHECK_FALSE(budget.reserve(t0 + seconds(21)));
}

TEST_CASE("a concurrent burst gets exactly the budget") {
    guess_budget budget(30, seconds(60));
    std::atomic<int> granted = 0;
    std::vector<std::thread> threads;
    for (int t = 0; t < 8; ++t)
        threads.emplace_back([&] {
            for (int i = 0; i < 50; ++i)
                if (budget.reserve()) ++granted;
        });
    for (auto& t : threads) t.join();
    CHECK(granted == 30);
    CHECK(budget.refused() == 8 * 50 - 30);
}

TEST_CASE("a signature that carried one message is refused with another") {
    push_memory memory;
    auto t0 = push_memory::clock::now();
    auto first = memory.admit("1714036504", "1514711492", "m/oVictim/1001", t0);
    CHECK(first.what == push_memory::verdict::first);
    memory.answered("m/oVictim/1001", "code 12345678");
    auto forged = memory.admit("1714036504", "1514711492", "e/oVictim/1714036504/", t0 + seconds(5));
    CHECK(forged.what == push_memory::verdict::reused);
    CHECK(forged.reply.empty());
    // Still remembered just before the 10 minutes are up, forgotten after.
    CHECK(memory.admit("1714036504", "1514711492", "m/oOther/1002", t0 + std::chrono::minutes(10) - seconds(1)).what ==
          push_memory::verdict::reused);
    CHECK(memory.admit("1714036504", "1514711492", "m/oOther/1002", t0 + std::chrono::minutes(10) + seconds(31)).what ==
          push_memory::verdict::first);
}

TEST_CASE("the same message again gets its first reply, however it is signed") {
    push_memory memory;
    auto t0 = push_memory::clock::now();
    REQUIRE(memory.admit("100", "1", "m/oUser/7", t0).what == push_memory::verdict::first);
    // A retry while the first delivery is being handled gets an empty reply.
    auto early = memory.admit("100", "2", "m/oUser/7", t0 + seconds(5));
    CHECK(early.what == push_memory::verdict::retry);
    CHECK(early.reply.empty());
    memory.answered("m/oUser/7", "your code");
    // WeChat's retry (a new nonce), then a replay of the first URL and body 9 minutes later.
    auto retry = memory.admit("100", "3", "m/oUser/7", t0 + seconds(10));
    auto replay = memory.admit("100", "1", "m/oUser/7", t0 + std::chrono::minutes(9));
    CHECK((retry.what == push_memory::verdict::retry && retry.reply == "your code"));
    CHECK((replay.what == push_memory::verdict::retry && replay.reply == "your code"));
}

TEST_CASE("a message's reply lives as long as the newest signature that carried it") {
    push_memory memory;
    auto t0 = push_memory::clock::now();
    REQUIRE(memory.admit("100", "1", "m/oUser/9", t0).what == push_memory::verdict::first);
    memory.answered("m/oUser/9", "your code");
    REQUIRE(memory.admit("100", "2", "m/oUser/9", t0 + seconds(20)).what == push_memory::verdict::retry);
    // Ten minutes after the first delivery, the retry's signature is still remembered: a
    // replay of it must get the old reply, not be handled afresh (a fresh code).
    auto replay = memory.admit("100", "2", "m/oUser/9", t0 + std::chrono::minutes(10) + seconds(10));
    CHECK(replay.what == push_memory::verdict::retry);
    CHECK(replay.reply == "your code");
}

TEST_CASE("a failed first delivery is handled afresh on the retry") {
    push_memory memory;
    auto t0 = push_memory::clock::now();
    REQUIRE(memory.admit("100", "1", "m/oUser/8", t0).what == push_memory::verdict::first);
    memory.forget("m/oUser/8");
    CHECK(memory.admit("100", "2", "m/oUser/8", t0 + seconds(5)).what == push_memory::verdict::first);
}

TEST_CASE("the push memory is bounded and refuses rather than forgets") {
    push_memory memory;
    auto t0 = push_memory::clock::now();
    for (std::size_t i = 0; i < push_memory::capacity; ++i)
        REQUIRE(memory.admit("100", std::to_string(i), "m/o/" + std::to_string(i), t0).what ==
                push_memory::verdict::first);
    CHECK(memory.admit("100", "new", "m/o/new", t0 + seconds(1)).what == push_memory::verdict::full);
    // A known signature still gets its answer.
    CHECK(memory.admit("100", "5", "m/o/5", t0 + seconds(1)).what == push_memory::verdict::retry);
    CHECK(memory.admit("100", "new", "m/o/new", t0 + push_memory::keep).what == push_memory::verdict::first);
}
