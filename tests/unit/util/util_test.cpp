#include <boost/asio/detached.hpp>
#include <boost/asio/io_context.hpp>
#include <catch2/catch.hpp>

#include <array>

#include "util/rate_limiter.hpp"
#include "util/random.hpp"
#include "util/task_counter.hpp"
#include "util/text.hpp"

using namespace chatd;

TEST_CASE("utf-8 validation") {
    CHECK(valid_utf8("plain"));
    CHECK(valid_utf8("中文 ✓ 😀"));
    CHECK_FALSE(valid_utf8("\xff"));
    CHECK_FALSE(valid_utf8("\xc0\xaf"));          // overlong '/'
    CHECK_FALSE(valid_utf8("\xed\xa0\x80"));      // surrogate
    CHECK_FALSE(valid_utf8("\xe4\xb8"));          // truncated
    CHECK_FALSE(valid_utf8("\xf4\x90\x80\x80"));  // past U+10FFFF
    std::string s = "a中b";
    CHECK(utf8_floor(s, 2) == 1);
    CHECK(utf8_prefix(s, 3) == "a");
    CHECK(utf8_length(s) == 3);
}

TEST_CASE("utf-8 repair replaces each stray byte and keeps every character") {
    CHECK(utf8_repaired("中文 ✓ 😀") == "中文 ✓ 😀");
    CHECK(utf8_repaired("a\x80" "b") == "a\uFFFD" "b");
    CHECK(utf8_repaired("\xC3(") == "\uFFFD(");              // a sequence cut short
    CHECK(utf8_repaired("\xed\xa0\x80") == "\uFFFD\uFFFD\uFFFD");  // a surrogate, byte by byte
    CHECK(utf8_repaired("ok\xe4\xb8") == "ok\uFFFD\uFFFD");
    CHECK(valid_utf8(utf8_repaired("\xff\xfe\xc0\xaf \xf4\x90\x80\x80")));
}

TEST_CASE("secrets are masked to their last four characters") {
    CHECK(mask_secret("sk-abcdefghijklmnop1234") == "sk-…1234");
    CHECK(mask_secret("short") == "…");
    CHECK(mask_secret("AIzaSyExampleExample9876") == "…9876");
}

TEST_CASE("random tokens and card-style codes") {
    CHECK(random_token(32).size() == 43);
    CHECK(random_token(32) != random_token(32));
    auto code = random_base32(16);
    CHECK(code.size() == 16);
    CHECK(code.find_first_not_of("0123456789ABCDEFGHJKMNPQRSTVWXYZ") == std::string::npos);
    CHECK(sha256_hex("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
}

TEST_CASE("rate limiter windows") {
    rate_limiter r;
    auto t0 = rate_limiter::clock::now();
    for (int i = 0; i < 3; ++i) CHECK(r.allow("k", 3, std::chrono::seconds(60), t0));
    CHECK_FALSE(r.allow("k", 3, std::chrono::seconds(60), t0));
    CHECK(r.allow("other", 3, std::chrono::seconds(60), t0));
    CHECK(r.allow("k", 3, std::chrono::seconds(60), t0 + std::chrono::seconds(61)));
    CHECK(r.allow("f", 1, std::chrono::seconds(60), t0));
    CHECK_FALSE(r.allow("f", 1, std::chrono::seconds(60), t0));
    r.reset("f");
    CHECK(r.allow("f", 1, std::chrono::seconds(60), t0));
}

TEST_CASE("rate limiter: an attempt that did not count is released") {
    rate_limiter r;
    auto t0 = rate_limiter::clock::now();
    auto window = std::chrono::seconds(60);
    REQUIRE(r.allow("k", 2, window, t0));
    REQUIRE(r.allow("k", 2, window, t0 + std::chrono::seconds(1)));
    CHECK_FALSE(r.allow("k", 2, window, t0 + std::chrono::seconds(2)));
    r.release("k", t0 + std::chrono::seconds(1));
    r.release("k", t0 + std::chrono::seconds(5));  // never recorded: nothing changes
    CHECK(r.allow("k", 2, window, t0 + std::chrono::seconds(3)));
    CHECK_FALSE(r.allow("k", 2, window, t0 + std::chrono::seconds(4)));
}

TEST_CASE("random digits are uniform decimal digits") {
    CHECK(random_digits(0).empty());
    std::array<int, 10> counts{};
    for (int i = 0; i < 2000; ++i) {
        auto code = random_digits(8);
        REQUIRE(code.size() == 8);
        REQUIRE(code.find_first_not_of("0123456789") == std::string::npos);
        for (char c : code) ++counts[c - '0'];
    }
    // 16,000 digits: each is expected 1,600 times; 1,350..1,850 is over six standard deviations.
    for (int n : counts) CHECK((n > 1350 && n < 1850));
}

TEST_CASE("counted tasks are waited for, and their exceptions do not vanish") {
    boost::asio::io_context ioc;
    task_counter tasks;
    bool done = false;
    tasks.spawn(ioc, [&]() -> boost::asio::awaitable<void> {
        boost::asio::steady_timer t(ioc, std::chrono::milliseconds(30));
        co_await t.async_wait(boost::asio::use_awaitable);
        done = true;
    }, "slow job");
    tasks.spawn(ioc, []() -> boost::asio::awaitable<void> {
        throw std::runtime_error("boom");
        co_return;
    }, "failing job");
    CHECK(tasks.running() == 2);
    bool idle = false;
    boost::asio::co_spawn(ioc, [&]() -> boost::asio::awaitable<void> {
        idle = co_await tasks.wait_idle(std::chrono::seconds(5));
    }, boost::asio::detached);
    ioc.run();
    CHECK(done);
    CHECK(idle);
    CHECK(tasks.running() == 0);
}
