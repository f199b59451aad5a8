// WeChat login state in the store, which instances sharing a database use (wechat/
// shared_login_state.hpp): each once-only step happens once, and expired rows are swept.
#include <catch2/catch.hpp>

#include "temp_db.hpp"

using namespace chatd;
using store::wechat_code_added;
using store::wechat_scan;
using testing::temp_db;
using verdict = store::wechat_push_admission::verdict;

namespace {

store::wechat_login_row login(const std::string& n, std::int64_t expires_at) {
    return {"ticket" + n, "scene" + n, "browser" + n, "invite" + n, "", "https://qr/" + n, expires_at};
}

}  // namespace

TEST_CASE("a scanned QR login is handed out once, to the browser that started it", "[both]") {
    temp_db t;
    auto& s = *t.st;
    REQUIRE(s.add_wechat_login(login("1", 400), 100, 10));
    auto pending = s.take_wechat_login("ticket1", "browser1", 101);
    REQUIRE(pending);
    CHECK(pending->openid.empty());
    CHECK_FALSE(s.take_wechat_login("ticket1", "someone-else", 101));
    CHECK(s.bind_wechat_login("scene1", "ticket1", "oA", 102) == wechat_scan::bound);
    CHECK(s.bind_wechat_login("scene1", "", "oA", 102) == wechat_scan::bound);  // WeChat's retry
    CHECK(s.bind_wechat_login("scene1", "", "oB", 102) == wechat_scan::taken);
    CHECK(s.bind_wechat_login("scene1", "other-ticket", "oA", 102) == wechat_scan::expired);
    CHECK_FALSE(s.take_wechat_login("ticket1", "someone-else", 103));
    auto confirmed = s.take_wechat_login("ticket1", "browser1", 103);
    REQUIRE(confirmed);
    CHECK(confirmed->openid == "oA");
    CHECK(confirmed->invite == "invite1");
    CHECK_FALSE(s.take_wechat_login("ticket1", "browser1", 104));  // spent
}

TEST_CASE("a browser's new QR login replaces its old one; a reload reuses a live one", "[both]") {
    temp_db t;
    auto& s = *t.st;
    REQUIRE(s.add_wechat_login(login("1", 400), 100, 10));
    auto again = s.reuse_wechat_login("browser1", "new-invite", 160);
    REQUIRE(again);
    CHECK(again->ticket == "ticket1");
    CHECK_FALSE(s.reuse_wechat_login("browser1", "x", 400));  // too little left to show
    auto second = login("2", 500);
    second.browser = "browser1";
    REQUIRE(s.add_wechat_login(second, 110, 10));
    CHECK_FALSE(s.take_wechat_login("ticket1", "browser1", 111));
    CHECK(s.bind_wechat_login("scene1", "", "oA", 111) == wechat_scan::expired);
    CHECK(s.take_wechat_login("ticket2", "browser1", 111)->invite == "invite2");
    s.bind_wechat_login("scene2", "", "oA", 112);
    CHECK_FALSE(s.reuse_wechat_login("browser1", "x", 113));  // scanned: never shown again
}

TEST_CASE("expired QR logins are refused, handed out as expired, and swept", "[both]") {
    temp_db t;
    auto& s = *t.st;
    REQUIRE(s.add_wechat_login(login("1", 200), 100, 2));
    REQUIRE(s.add_wechat_login(login("2", 200), 100, 2));
    CHECK_FALSE(s.add_wechat_login(login("3", 300), 150, 2));  // full
    CHECK(s.bind_wechat_login("scene1", "", "oA", 200) == wechat_scan::expired);
    auto late = s.take_wechat_login("ticket1", "browser1", 200);
    REQUIRE(late);
    CHECK(late->expires_at <= 200);
    REQUIRE(s.add_wechat_login(login("3", 300), 200, 2));  // the expired one was swept
    CHECK_FALSE(s.take_wechat_login("ticket2", "browser2", 201));
}

TEST_CASE("a code is spent once; wrong codes use up the site-wide budget", "[both]") {
    temp_db t;
    auto& s = *t.st;
    CHECK(s.add_wechat_code("h1", "oA", 300, 100, 10) == wechat_code_added::added);
    CHECK(s.add_wechat_code("h1", "oB", 300, 100, 10) == wechat_code_added::clash);
    auto right = s.redeem_wechat_code("h1", 101'000, 60'000, 3);
    CHECK_FALSE(right.refused);
    CHECK(right.openid == "oA");
    CHECK_FALSE(s.redeem_wechat_code("h1", 101'100, 60'000, 3).openid);  // spent: a wrong code now
    CHECK(s.add_wechat_code("h2", "oB", 102, 100, 10) == wechat_code_added::added);
    CHECK_FALSE(s.redeem_wechat_code("h2", 102'000, 60'000, 3).openid);  // expired
    CHECK_FALSE(s.redeem_wechat_code("nope", 102'100, 60'000, 3).openid);
    CHECK(s.add_wechat_code("h3", "oC", 300, 103, 10) == wechat_code_added::added);
    auto refused = s.redeem_wechat_code("h3", 103'000, 60'000, 3);
    CHECK(refused.refused);
    CHECK_FALSE(refused.openid);  // not even looked up: still waiting
    auto later = s.redeem_wechat_code("h3", 161'150, 60'000, 3);  // the first wrong one left the window
    CHECK(later.openid == "oC");
}

TEST_CASE("codes are bounded and expired ones swept", "[both]") {
    temp_db t;
    auto& s = *t.st;
    CHECK(s.add_wechat_code("h1", "oA", 200, 100, 2) == wechat_code_added::added);
    CHECK(s.add_wechat_code("h2", "oA", 300, 100, 2) == wechat_code_added::added);
    CHECK(s.add_wechat_code("h3", "oA", 300, 150, 2) == wechat_code_added::full);
    CHECK(s.add_wechat_code("h3", "oA", 400, 200, 2) == wechat_code_added::added);
}

TEST_CASE("a push is handled once; its retries get the first reply; a reused signature is refused", "[both]") {
    temp_db t;
    auto& s = *t.st;
    CHECK(s.admit_wechat_push("1/a", "m/oA/1", 100, 600).what == verdict::first);
    auto during = s.admit_wechat_push("1/b", "m/oA/1", 101, 600);
    CHECK(during.what == verdict::retry);
    CHECK(during.reply.empty());
    s.answer_wechat_push("m/oA/1", "your code");
    auto retry = s.admit_wechat_push("1/c", "m/oA/1", 102, 600);
    CHECK(retry.what == verdict::retry);
    CHECK(retry.reply == "your code");
    CHECK(s.admit_wechat_push("1/a", "m/oA/2", 103, 600).what == verdict::reused);
    CHECK(s.admit_wechat_push("2/a", "m/oA/2", 104, 600).what == verdict::first);
    s.forget_wechat_push("m/oA/2");  // its handling failed: the retry is handled afresh
    CHECK(s.admit_wechat_push("2/b", "m/oA/2", 105, 600).what == verdict::first);
    // Past the window both are forgotten.
    CHECK(s.admit_wechat_push("1/a", "m/oA/3", 800, 600).what == verdict::first);
    CHECK(s.admit_wechat_push("9/z", "m/oA/1", 800, 600).what == verdict::first);
}

TEST_CASE("one instance at a time fetches the shared access token", "[both]") {
    temp_db t;
    auto& s = *t.st;
    CHECK(s.wechat_token("api\nwx1").token.empty());
    auto lease = s.lease_wechat_token("api\nwx1", 100, 115);
    REQUIRE(lease);
    CHECK_FALSE(s.lease_wechat_token("api\nwx1", 101, 116));  // another is fetching
    s.save_wechat_token("api\nwx1", "T1", 7000, std::nullopt);
    CHECK(s.wechat_token("api\nwx1").token == "T1");
    CHECK(s.wechat_token("api\nwx1").valid_until == 7000);
    s.reject_wechat_token("api\nwx1", "T1");
    auto stale = s.wechat_token("api\nwx1");
    CHECK(stale.token.empty());
    CHECK(stale.rejected == "T1");
    lease = s.lease_wechat_token("api\nwx1", 200, 215);
    REQUIRE(lease);
    CHECK(lease->rejected == "T1");
    s.release_wechat_token("api\nwx1");  // the fetch failed
    REQUIRE(s.lease_wechat_token("api\nwx1", 201, 216));
    s.save_wechat_token("api\nwx1", "T2", 7200, 201);
    auto fresh = s.wechat_token("api\nwx1");
    CHECK(fresh.token == "T2");
    CHECK(fresh.rejected.empty());
    CHECK(fresh.last_forced == 201);
    // No fetch while a valid token is stored: another call saved it after the caller looked.
    CHECK_FALSE(s.lease_wechat_token("api\nwx1", 300, 315));
    // A lease left by a crashed instance ends on its own.
    s.reject_wechat_token("api\nwx1", "T2");
    REQUIRE(s.lease_wechat_token("api\nwx1", 300, 315));
    CHECK_FALSE(s.lease_wechat_token("api\nwx1", 310, 325));
    CHECK(s.lease_wechat_token("api\nwx1", 316, 331));
}
