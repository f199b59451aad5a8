// Key rotation, exclusion, per-model pools and outcome classification (no sockets).
#include <catch2/catch.hpp>
#include <map>

#include "upstream/key_pool.hpp"

using namespace chatd::upstream;

namespace {

pool_key key(std::int64_t id, std::vector<std::string> models = {}) {
    pool_key k;
    k.id = id;
    k.secret = "sk-secret-" + std::to_string(id) + "-abcdefgh";
    k.models = std::move(models);
    return k;
}

outcome http(int status, std::string code = "", std::string type = "") {
    outcome o;
    o.what = outcome::kind::http_error;
    o.http_status = status;
    o.error_code = std::move(code);
    o.error_type = std::move(type);
    return o;
}

}  // namespace

TEST_CASE("round-robin is fair over 1,000 picks") {
    key_pool p;
    p.load({key(1), key(2), key(3), key(4)});
    std::map<std::int64_t, int> n;
    for (int i = 0; i < 1000; ++i) n[p.pick("m", {}, 0)->id]++;
    for (auto id : {1, 2, 3, 4}) CHECK(n[id] == 250);
}

TEST_CASE("retries skip excluded keys and per-model pools hold") {
    key_pool p;
    p.load({key(1, {"a"}), key(2, {"b"}), key(3)});
    for (int i = 0; i < 10; ++i) {
        auto k = p.pick("a", {1}, 0);
        REQUIRE(k);
        CHECK(k->id == 3);
    }
    CHECK_FALSE(p.pick("a", {1, 3}, 0));
    CHECK(p.has_candidate("b", 0));
    CHECK(p.has_candidate("c", 0));  // key 3 serves every model
}

TEST_CASE("classification of upstream outcomes") {
    CHECK(classify(http(401)) == verdict::evict);
    CHECK(classify(http(400, "invalid_api_key")) == verdict::evict);
    CHECK(classify(http(403, "account_deactivated")) == verdict::evict);
    CHECK(classify(http(429, "insufficient_quota", "insufficient_quota")) == verdict::evict);
    CHECK(classify(http(429, "rate_limit_exceeded", "requests")) == verdict::cool_down);
    CHECK(classify(http(500)) == verdict::transient);
    CHECK(classify(http(503)) == verdict::transient);
    CHECK(classify(http(400, "context_length_exceeded")) == verdict::request_fault);
    CHECK(classify(http(404)) == verdict::request_fault);
    outcome t;
    t.what = outcome::kind::timeout_first_byte;
    CHECK(classify(t) == verdict::transient);
    t.what = outcome::kind::cancelled;
    CHECK(classify(t) == verdict::cancelled);
    t.what = outcome::kind::ok;
    CHECK(classify(t) == verdict::success);
}

TEST_CASE("eviction, cooling and recovery") {
    key_pool p;
    p.load({key(1), key(2)});
    auto v = p.report(1, http(401, "invalid_api_key"), 100);
    CHECK(v == verdict::evict);
    for (int i = 0; i < 5; ++i) CHECK(p.pick("m", {}, 100)->id == 2);
    auto rl = http(429, "rate_limit_exceeded");
    rl.retry_after_s = 5;
    p.report(2, rl, 100);
    CHECK_FALSE(p.pick("m", {}, 104));
    CHECK(p.pick("m", {}, 105)->id == 2);
    auto c = p.count(100);
    CHECK(c.invalid == 1);
    CHECK(c.cooling == 1);
    auto used = p.take_usage();
    REQUIRE(used.size() == 2);
    CHECK(used[0].health_changed);
    CHECK(used[0].status == "invalid");
    CHECK(used[0].requests == 1);
    CHECK(used[0].failures == 1);
    CHECK(used[1].status == "cooling");
    CHECK(used[1].cooldown_until == 105);
    CHECK(p.take_usage().empty());
}

TEST_CASE("three transient failures in a row cool a key down") {
    key_pool p;
    p.load({key(1)});
    outcome o;
    o.what = outcome::kind::connect_failed;
    p.report(1, o, 10);
    p.report(1, o, 10);
    CHECK(p.pick("m", {}, 10));
    p.report(1, o, 10);
    CHECK_FALSE(p.pick("m", {}, 10));
    CHECK(p.pick("m", {}, 10 + key_pool::transient_cooldown_s));
}

TEST_CASE("disabled keys are skipped until enabled") {
    key_pool p;
    p.load({key(1)});
    p.set_enabled(1, false);
    CHECK_FALSE(p.pick("m", {}, 0));
    CHECK(p.snapshot()[0].shown_status(0) == "disabled");
    p.set_enabled(1, true);
    CHECK(p.pick("m", {}, 0));
}

TEST_CASE("usage is saved as increments, health only where this process changed it") {
    key_pool p;
    p.load({key(1)});
    outcome ok;
    ok.what = outcome::kind::ok;
    p.report(1, ok, 10);
    p.report(1, ok, 11);
    auto used = p.take_usage();
    REQUIRE(used.size() == 1);
    CHECK(used[0].requests == 2);
    CHECK(used[0].failures == 0);
    CHECK(used[0].last_used_at == 11);
    CHECK_FALSE(used[0].health_changed);  // a key merely used never overwrites another's verdict
    p.report(1, ok, 12);
    CHECK(p.take_usage()[0].requests == 1);
}

TEST_CASE("refresh takes in other processes' keys and health, keeping what this one has not saved") {
    using clock = std::chrono::steady_clock;
    key_pool p;
    p.load({key(1), key(2)});
    outcome ok;
    ok.what = outcome::kind::ok;
    p.report(1, ok, 10);  // unsaved here: one request
    auto read_at = clock::now();
    auto one = key(1), three = key(3);
    one.status = "invalid";  // evicted by another process
    one.requests = 40;
    p.refresh({one, three}, read_at);
    auto keys = p.snapshot();
    REQUIRE(keys.size() == 2);  // 2 removed elsewhere, 3 added elsewhere
    CHECK(keys[0].id == 1);
    CHECK(keys[0].shown_status(10) == "invalid");
    CHECK(keys[0].requests == 41);
    CHECK(keys[1].id == 3);
    CHECK(p.pick("m", {}, 10)->id == 3);

    // A copy read before this process's own change does not undo it.
    auto before = clock::now();
    p.remove(3);
    p.add(key(4));
    p.refresh({one, three}, before);
    keys = p.snapshot();
    REQUIRE(keys.size() == 2);
    CHECK(keys[0].id == 1);
    CHECK(keys[1].id == 4);

    // Nor one read before an eviction this process has not saved yet.
    auto two = key(2);
    p.add(two);
    p.report(2, http(401, "invalid_api_key"), 20);
    p.refresh({one, two, key(4)}, clock::now());  // `two` as stored: still active
    for (auto& k : p.snapshot())
        if (k.id == 2) CHECK(k.shown_status(20) == "invalid");
    CHECK(p.pick("m", {}, 20)->id == 4);
}
