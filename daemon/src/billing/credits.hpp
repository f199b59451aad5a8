#pragma once
// The rules that change a balance outside a question: recharge cards and paid orders (with
// renewal and the inviter's reward) and operators' grants. Each runs as one transaction over the store's
// ledger port and writes the ledger rows that explain it.
#include <cstdint>
#include <optional>
#include <string>

#include "billing/balance.hpp"
#include "store/ledger.hpp"

namespace chatd::billing {

// `code` is normalised (normalise_card_code). Exactly once: the card's claim and the credit
// happen together. The direct inviter, if any, earns paid_percent % of the card's questions
// (rounded down) as trial credits, which never expire; no chains.
balance redeem_card(store::ledger& l, store::id_t user_id, const std::string& code, std::int64_t now,
                    std::int64_t paid_percent);

struct paid_order {
    store::id_t user_id = 0;
    balance after;  // the buyer's
};

// A channel says `order_no` is paid `amount_cents`: the order becomes paid and its plan is
// credited like a card (renewal, the inviter's share), exactly once, in one transaction.
// nullopt when it was paid already; invalid_params (and nothing changes) when the amount
// differs from the order's; not_found for an unknown order.
std::optional<paid_order> pay_order(store::ledger& l, const std::string& order_no, const std::string& trade_no,
                                    std::int64_t amount_cents, std::int64_t now, std::int64_t paid_percent);

// An operator's grant (negative deducts). bucket "trial" or "paid"; paid with days renews like
// a card. Refuses (invalid_params) to take a bucket below zero, or to add paid credits without
// days when none are valid.
balance grant(store::ledger& l, store::id_t user_id, std::int64_t questions, std::optional<std::int64_t> days,
              const std::string& bucket, const std::string& actor, std::int64_t now);

// A new user's trial grant and, when `invite` is another user's invite code, the link to that
// inviter and their `signup_reward` in trial credits. Inside the transaction that created the
// user.
void welcome_new_user(store::ledger& l, store::id_t user_id, std::int64_t trial, const std::string& invite,
                      std::int64_t signup_reward, std::int64_t now);

}  // namespace chatd::billing
