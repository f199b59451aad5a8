#include "billing/credits.hpp"

#include "billing/cards.hpp"
#include "util/app_error.hpp"

namespace chatd::billing {

namespace {

// Inside the caller's transaction: paid questions bought (a card or an order) renew the paid
// bucket, and the direct inviter earns their share. `reason` and `ref` explain the ledger rows.
balance credit_purchase(store::ledger& l, store::id_t user_id, std::int64_t questions, std::int64_t days,
                        std::int64_t now, std::int64_t paid_percent, const std::string& reason,
                        const std::string& ref) {
    auto r = apply_card(l.balance_of(user_id), questions, days, now);
    l.set_balance(user_id, r.after);
    if (r.forfeited) l.append_ledger(user_id, now, 0, -r.forfeited, "paid_expired", ref);
    l.append_ledger(user_id, now, 0, questions, reason, ref);
    auto inviter = paid_percent > 0 ? l.inviter_of(user_id) : std::nullopt;
    std::int64_t reward = inviter ? questions * paid_percent / 100 : 0;
    if (reward > 0) {
        auto theirs = l.balance_of(*inviter);
        theirs.trial += reward;
        l.set_balance(*inviter, theirs);
        l.append_ledger(*inviter, now, reward, 0, "referral_paid", ref);
    }
    return r.after;
}

}  // namespace

balance redeem_card(store::ledger& l, store::id_t user_id, const std::string& code, std::int64_t now,
                    std::int64_t paid_percent) {
    balance after;
    l.atomically([&] {
        auto card = l.claim_card(code, user_id, now);
        after = credit_purchase(l, user_id, card.questions, card.days, now, paid_percent, "card", "card:" + code);
        l.count_sale(now, card.questions);
    });
    return after;
}

std::optional<paid_order> pay_order(store::ledger& l, const std::string& order_no, const std::string& trade_no,
                                    std::int64_t amount_cents, std::int64_t now, std::int64_t paid_percent) {
    std::optional<paid_order> out;
    l.atomically([&] {
        auto order = l.claim_order(order_no, trade_no, now);
        if (!order) return;
        if (order->amount_cents != amount_cents)
            throw app_error("invalid_params", "the amount paid differs from the order's");
        out = paid_order{order->user_id, credit_purchase(l, order->user_id, order->questions, order->days, now,
                                                         paid_percent, "order", "order:" + order_no)};
        l.count_paid_order(now, order->questions, amount_cents);
    });
    return out;
}

balance grant(store::ledger& l, store::id_t user_id, std::int64_t questions, std::optional<std::int64_t> days,
              const std::string& bucket, const std::string& actor, std::int64_t now) {
    balance b;
    l.atomically([&] {
        b = l.balance_of(user_id);
        std::int64_t d_trial = 0, d_paid = 0, forfeited = 0;
        if (bucket == "trial") {
            if (b.trial + questions < 0) throw app_error("invalid_params", "the trial bucket would go below zero");
            b.trial += questions;
            d_trial = questions;
        } else if (days && questions >= 0) {
            auto r = apply_card(b, questions, *days, now);
            forfeited = r.forfeited;
            b = r.after;
            d_paid = questions;
        } else {
            if (!b.paid_expires_at || *b.paid_expires_at <= now)
                throw app_error("invalid_params", "no valid paid credits: give days to grant paid questions");
            if (b.paid + questions < 0) throw app_error("invalid_params", "the paid bucket would go below zero");
            b.paid += questions;
            d_paid = questions;
        }
        l.set_balance(user_id, b);
        if (forfeited) l.append_ledger(user_id, now, 0, -forfeited, "paid_expired", actor);
        l.append_ledger(user_id, now, d_trial, d_paid, "grant", actor);
    });
    return b;
}

void welcome_new_user(store::ledger& l, store::id_t user_id, std::int64_t trial, const std::string& invite,
                      std::int64_t signup_reward, std::int64_t now) {
    l.atomically([&] {
        if (trial > 0) {
            auto b = l.balance_of(user_id);
            b.trial += trial;
            l.set_balance(user_id, b);
            l.append_ledger(user_id, now, trial, 0, "trial_grant", "");
        }
        auto inviter = invite.empty() ? std::nullopt : l.user_by_invite_code(invite);
        if (!inviter) return;
        l.set_inviter(user_id, *inviter);
        if (signup_reward > 0) {
            auto theirs = l.balance_of(*inviter);
            theirs.trial += signup_reward;
            l.set_balance(*inviter, theirs);
            l.append_ledger(*inviter, now, signup_reward, 0, "referral_signup", "user:" + std::to_string(user_id));
        }
    });
}

}  // namespace chatd::billing
