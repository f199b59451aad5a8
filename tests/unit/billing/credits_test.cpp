// Billing's rules over a fake ledger port: no SQLite, only the rules and the rows they write.
#include <catch2/catch.hpp>

#include <algorithm>
#include <map>
#include <vector>

#include "billing/balance.hpp"
#include "billing/credits.hpp"
#include "billing/refunds.hpp"
#include "util/app_error.hpp"

using namespace chatd;

namespace {

struct entry {
    store::id_t user;
    std::int64_t d_trial, d_paid;
    std::string reason, ref;
    bool operator==(const entry&) const = default;
};

// Keeps everything in memory; a transaction that throws leaves no trace, as a real one would.
class fake_ledger final : public store::ledger {
public:
    std::map<store::id_t, store::balance> balances;
    std::map<store::id_t, store::id_t> inviters;
    std::map<std::string, store::id_t> invite_codes;
    std::map<std::string, store::card_claim> unused_cards;
    std::map<std::string, store::order_claim> pending_orders;  // and closed ones
    std::vector<std::string> paid_orders;
    std::vector<entry> rows;
    std::int64_t sales = 0, sold = 0, orders_paid = 0, paid_cents = 0;

    void atomically(const std::function<void()>& work) override {
        auto saved = *this;
        try {
            work();
        } catch (...) {
            restore(saved);
            throw;
        }
    }
    store::balance balance_of(store::id_t user) override {
        auto it = balances.find(user);
        if (it == balances.end()) throw app_error("not_found", "no such user");
        return it->second;
    }
    void set_balance(store::id_t user, const store::balance& b) override { balances.at(user) = b; }
    void append_ledger(store::id_t user, std::int64_t, std::int64_t d_trial, std::int64_t d_paid,
                       const std::string& reason, const std::string& ref) override {
        rows.push_back({user, d_trial, d_paid, reason, ref});
    }
    std::optional<store::id_t> inviter_of(store::id_t user) override {
        auto it = inviters.find(user);
        return it == inviters.end() ? std::nullopt : std::optional(it->second);
    }
    std::optional<store::id_t> user_by_invite_code(const std::string& code) override {
        auto it = invite_codes.find(code);
        return it == invite_codes.end() ? std::nullopt : std::optional(it->second);
    }
    void set_inviter(store::id_t user, store::id_t inviter) override { inviters[user] = inviter; }
    store::card_claim claim_card(const std::string& code, store::id_t, std::int64_t) override {
        auto it = unused_cards.find(code);
        if (it == unused_cards.end()) throw app_error("card_used", "used");
        auto card = it->second;
        unused_cards.erase(it);
        return card;
    }
    void count_sale(std::int64_t, std::int64_t questions) override {
        ++sales;
        sold += questions;
    }
    std::optional<store::order_claim> claim_order(const std::string& no, const std::string&, std::int64_t) override {
        if (std::find(paid_orders.begin(), paid_orders.end(), no) != paid_orders.end()) return std::nullopt;
        auto it = pending_orders.find(no);
        if (it == pending_orders.end()) throw app_error("not_found", "no such order");
        paid_orders.push_back(no);
        return it->second;
    }
    void count_paid_order(std::int64_t, std::int64_t questions, std::int64_t cents) override {
        ++orders_paid;
        sold += questions;
        paid_cents += cents;
    }

private:
    void restore(const fake_ledger& saved) {
        balances = saved.balances;
        inviters = saved.inviters;
        invite_codes = saved.invite_codes;
        unused_cards = saved.unused_cards;
        pending_orders = saved.pending_orders;
        paid_orders = saved.paid_orders;
        rows = saved.rows;
        sales = saved.sales;
        sold = saved.sold;
        orders_paid = saved.orders_paid;
        paid_cents = saved.paid_cents;
    }
};

constexpr std::int64_t day = 86400;

}  // namespace

TEST_CASE("redeeming writes the renewal, the forfeit and the sale, each with its ledger row") {
    fake_ledger l;
    l.balances[1] = {2, 5, 10 * day};
    l.unused_cards["AAAA"] = {10, 30};
    l.unused_cards["BBBB"] = {7, 1};
    auto b = billing::redeem_card(l, 1, "AAAA", 5 * day, 0);
    CHECK(b.trial == 2);
    CHECK(b.paid == 15);  // kept and added
    CHECK(b.paid_expires_at == 40 * day);  // moved out by 30 days
    CHECK(l.rows == std::vector<entry>{{1, 0, 10, "card", "card:AAAA"}});
    // Long after expiry: the old credits are forfeited, with a row that says so.
    b = billing::redeem_card(l, 1, "BBBB", 100 * day, 0);
    CHECK(b.paid == 7);
    CHECK(b.paid_expires_at == 101 * day);
    CHECK(l.rows.at(1) == entry{1, 0, -15, "paid_expired", "card:BBBB"});
    CHECK(l.rows.at(2) == entry{1, 0, 7, "card", "card:BBBB"});
    CHECK(l.sales == 2);
    CHECK(l.sold == 17);
}

TEST_CASE("the direct inviter earns a share of a card in trial credits, rounded down") {
    fake_ledger l;
    l.balances[1] = {};
    l.balances[2] = {3, 0, std::nullopt};
    l.inviters[1] = 2;
    l.unused_cards["CCCC"] = {25, 30};
    billing::redeem_card(l, 1, "CCCC", 1000, 10);
    CHECK(l.balances[2].trial == 3 + 2);  // 10 % of 25
    CHECK(l.rows.back() == entry{2, 2, 0, "referral_paid", "card:CCCC"});
    l.unused_cards["DDDD"] = {25, 30};
    billing::redeem_card(l, 1, "DDDD", 1000, 0);
    CHECK(l.balances[2].trial == 5);  // no share when the setting is 0
}

TEST_CASE("a refused card or an unknown user changes nothing") {
    fake_ledger l;
    l.balances[1] = {1, 0, std::nullopt};
    CHECK_THROWS_AS(billing::redeem_card(l, 1, "NOPE", 10, 50), app_error);
    l.unused_cards["EEEE"] = {5, 30};
    CHECK_THROWS_AS(billing::redeem_card(l, 9, "EEEE", 10, 50), app_error);  // no such user
    CHECK(l.unused_cards.count("EEEE") == 1);  // the claim was rolled back with the rest
    CHECK(l.rows.empty());
    CHECK(l.sales == 0);
}

TEST_CASE("operators' grants: buckets, renewal and the floors") {
    fake_ledger l;
    l.balances[1] = {3, 0, std::nullopt};
    auto b = billing::grant(l, 1, 4, std::nullopt, "trial", "socket", 100);
    CHECK(b.trial == 7);
    CHECK(l.rows.back() == entry{1, 4, 0, "grant", "socket"});
    CHECK_THROWS_AS(billing::grant(l, 1, -8, std::nullopt, "trial", "socket", 100), app_error);
    // Paid credits need days while none are valid.
    CHECK_THROWS_AS(billing::grant(l, 1, 5, std::nullopt, "paid", "socket", 100), app_error);
    b = billing::grant(l, 1, 5, 10, "paid", "socket", 100);
    CHECK(b.paid == 5);
    CHECK(b.paid_expires_at == 100 + 10 * day);
    b = billing::grant(l, 1, -2, std::nullopt, "paid", "socket", 200);
    CHECK(b.paid == 3);
    CHECK_THROWS_AS(billing::grant(l, 1, -4, std::nullopt, "paid", "socket", 200), app_error);
    CHECK(l.balances[1].paid == 3);
    CHECK(l.rows.size() == 3);
}

TEST_CASE("a question is charged from paid credits first, and refused beyond the balance") {
    auto plan = billing::question_charge(4, 999);
    auto c = plan(store::balance{1, 3, 1000});
    CHECK(c.paid == 3);
    CHECK(c.trial == 1);
    c = billing::question_charge(4, 1000)(store::balance{5, 3, 1000});  // the paid credits just expired
    CHECK(c.paid == 0);
    CHECK(c.trial == 4);
    try {
        billing::question_charge(6, 1000)(store::balance{5, 3, 1000});
        FAIL("charged beyond the balance");
    } catch (const app_error& e) {
        CHECK(e.reason == "insufficient_credits");
    }
}

TEST_CASE("a question costs the model's price and each image's, nothing for an operator") {
    CHECK(billing::question_price(2, 3, 2, false) == 8);
    CHECK(billing::question_price(2, 3, 0, false) == 2);
    CHECK(billing::question_price(2, 3, 2, true) == 0);
    // A free question plans no charge even on an empty balance.
    auto c = billing::question_charge(0, 1000)(store::balance{0, 0, std::nullopt});
    CHECK(c.paid + c.trial == 0);
}

TEST_CASE("what is refunded when an answer ends") {
    using billing::decide_refund;
    CHECK_FALSE(decide_refund("done", true, 800, 0).refund);
    CHECK_FALSE(decide_refund("stopped", true, 800, 0).refund);  // the user stopped it after it began
    CHECK(decide_refund("stopped", false, std::nullopt, 0).refund);
    CHECK(decide_refund("failed", true, 800, 0).refund);
    CHECK(decide_refund("interrupted", true, 800, 0).refund);
    CHECK(decide_refund("failed", true, 800, 0).free_reason.empty());
    // Free if slow: strictly slower than the setting, and only for answers that were charged.
    auto slow = decide_refund("done", true, 5001, 5);
    CHECK(slow.refund);
    CHECK(slow.free_reason == "slow");
    CHECK_FALSE(decide_refund("done", true, 5000, 5).refund);
    CHECK_FALSE(decide_refund("done", true, std::nullopt, 5).refund);
    CHECK_FALSE(decide_refund("done", true, 60'000, 0).refund);
    CHECK(decide_refund("stopped", true, 9000, 5).free_reason == "slow");
}

TEST_CASE("a new user gets the trial, and an invite links them and rewards the inviter") {
    fake_ledger l;
    l.balances[1] = {0, 0, std::nullopt};
    l.balances[2] = {};
    l.balances[3] = {};
    l.invite_codes["INV1"] = 1;
    billing::welcome_new_user(l, 2, 10, "INV1", 3, 500);
    CHECK(l.balances[2].trial == 10);
    CHECK(l.inviters.at(2) == 1);
    CHECK(l.balances[1].trial == 3);
    CHECK(l.rows == std::vector<entry>{{2, 10, 0, "trial_grant", ""}, {1, 3, 0, "referral_signup", "user:2"}});
    // An unknown code is ignored; no trial means no row.
    billing::welcome_new_user(l, 3, 0, "NOPE", 3, 500);
    CHECK(l.inviters.count(3) == 0);
    CHECK(l.rows.size() == 2);
}

TEST_CASE("a paid order credits its plan once, renews like a card and pays the inviter") {
    fake_ledger l;
    const std::int64_t now = 1'000'000;
    l.balances[1] = {0, 5, now + 2 * day};
    l.balances[2] = {};
    l.inviters[1] = 2;
    l.pending_orders["NO1"] = {1, 100, 30, 1990};
    auto paid = billing::pay_order(l, "NO1", "T1", 1990, now, 10);
    REQUIRE(paid);
    CHECK(paid->user_id == 1);
    CHECK(paid->after.paid == 105);
    CHECK(paid->after.paid_expires_at == now + 2 * day + 30 * day);
    CHECK(l.balances[2].trial == 10);
    CHECK(l.rows == std::vector<entry>{{1, 0, 100, "order", "order:NO1"}, {2, 10, 0, "referral_paid", "order:NO1"}});
    CHECK((l.orders_paid == 1 && l.paid_cents == 1990 && l.sold == 100 && l.sales == 0));
    // The same order again (a duplicate notification, a query racing it): nothing more.
    CHECK_FALSE(billing::pay_order(l, "NO1", "T1", 1990, now + 5, 10));
    CHECK(l.balances[1].paid == 105);
    CHECK(l.rows.size() == 2);
}

TEST_CASE("an order paid a different amount changes nothing; an unknown one is not_found") {
    fake_ledger l;
    l.balances[1] = {};
    l.pending_orders["NO2"] = {1, 50, 30, 990};
    CHECK_THROWS_MATCHES(billing::pay_order(l, "NO2", "T", 1, 100, 0), app_error,
                         Catch::Predicate<app_error>([](const app_error& e) { return e.reason == "invalid_params"; }));
    CHECK(l.balances[1].paid == 0);
    CHECK(l.rows.empty());
    CHECK(l.paid_orders.empty());
    CHECK_THROWS_MATCHES(billing::pay_order(l, "NOPE", "T", 990, 100, 0), app_error,
                         Catch::Predicate<app_error>([](const app_error& e) { return e.reason == "not_found"; }));
    REQUIRE(billing::pay_order(l, "NO2", "T", 990, 100, 0));
    CHECK(l.balances[1].paid == 50);
}
