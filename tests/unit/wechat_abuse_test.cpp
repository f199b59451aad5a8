// WeChat login against guessing: the site-wide budget of wrong codes.
#include <catch2/catch.hpp>

#include <atomic>
#include <thread>
#include <vector>

#include "wechat/guess_budget.hpp"

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
