// Card codes and the redemption rule, with a fixed clock.
#include <catch2/catch.hpp>
#include <set>

#include "billing/cards.hpp"

using namespace chatd::billing;

TEST_CASE("card codes: 16 Crockford characters, shown in groups, read forgivingly") {
    std::set<std::string> seen;
    for (int i = 0; i < 1000; ++i) {
        auto code = new_card_code();
        REQUIRE(code.size() == 16);
        REQUIRE(normalise_card_code(code) == code);
        seen.insert(code);
    }
    CHECK(seen.size() == 1000);
    CHECK(format_card_code("ABCD0123EFGH4567") == "ABCD-0123-EFGH-4567");
    CHECK(normalise_card_code("abcd-0123-efgh-4567") == "ABCD0123EFGH4567");
    CHECK(normalise_card_code(" ABCD 0123 EFGH 4567 ") == "ABCD0123EFGH4567");
    CHECK(normalise_card_code("oiLl-0000-0000-0000") == "0111000000000000");
    CHECK_FALSE(normalise_card_code("ABCD-0123-EFGH-456"));    // too short
    CHECK_FALSE(normalise_card_code("ABCD-0123-EFGH-45678"));  // too long
    CHECK_FALSE(normalise_card_code("ABCD-0123-EFGH-456U"));   // U is not in the alphabet
    CHECK_FALSE(normalise_card_code(""));
}

TEST_CASE("a card renews valid paid credits and replaces expired ones") {
    const std::int64_t day = 86400, now = 1'000'000;
    // Valid paid credits: added, expiry extended from the old expiry.
    auto r = apply_card(balance{5, 20, now + 10 * day}, 50, 30, now);
    CHECK(r.after.paid == 70);
    CHECK(r.after.paid_expires_at == now + 40 * day);
    CHECK(r.after.trial == 5);
    CHECK(r.forfeited == 0);
    // Valid but used up: still a renewal (the expiry is in the future).
    r = apply_card(balance{0, 0, now + 1}, 10, 1, now);
    CHECK(r.after.paid == 10);
    CHECK(r.after.paid_expires_at == now + 1 + day);
    // Expired at exactly this second: the old credits are gone, the card runs from now.
    r = apply_card(balance{3, 20, now}, 50, 30, now);
    CHECK(r.after.paid == 50);
    CHECK(r.after.paid_expires_at == now + 30 * day);
    CHECK(r.forfeited == 20);
    CHECK(r.after.trial == 3);
    // Never had paid credits.
    r = apply_card(balance{10, 0, std::nullopt}, 5, 7, now);
    CHECK(r.after.paid == 5);
    CHECK(r.after.paid_expires_at == now + 7 * day);
    CHECK(r.forfeited == 0);
}
