#pragma once
// The narrow part of the store that billing's rules work over: balances, the append-only
// ledger, card and order claims and sales counts, inside one transaction. The store implements it;
// billing's unit tests fake it. Only billing/ changes balances through it.
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include "store/types.hpp"

namespace chatd::store {

struct card_claim {
    std::int64_t questions = 0, days = 0;
};

// What a paid order buys, copied into the order when it was created.
struct order_claim {
    id_t user_id = 0;
    std::int64_t questions = 0, days = 0, amount_cents = 0;
};

class ledger {
public:
    virtual ~ledger() = default;

    // Runs `work` as one transaction: everything it changed is kept, or none of it.
    virtual void atomically(const std::function<void()>& work) = 0;
    // app_error not_found for an unknown user.
    virtual balance balance_of(id_t user_id) = 0;
    virtual void set_balance(id_t user_id, const balance& b) = 0;
    virtual void append_ledger(id_t user_id, std::int64_t at, std::int64_t delta_trial, std::int64_t delta_paid,
                               const std::string& reason, const std::string& ref) = 0;
    virtual std::optional<id_t> inviter_of(id_t user_id) = 0;
    // The user whose invite code this is, if any; and linking a new user to them.
    virtual std::optional<id_t> user_by_invite_code(const std::string& code) = 0;
    virtual void set_inviter(id_t user_id, id_t inviter_id) = 0;
    // Moves the card from unused to used by `user_id`, exactly once however many try at once;
    // app_error card_invalid / card_used / card_revoked / card_expired otherwise.
    virtual card_claim claim_card(const std::string& code, id_t user_id, std::int64_t now) = 0;
    // The day's rollups: one more redemption, `questions` more credits sold.
    virtual void count_sale(std::int64_t at, std::int64_t questions) = 0;
    // Moves the order from pending (or closed: the money was taken after all) to paid, exactly
    // once however many try at once; nullopt when it is paid already. not_found when unknown.
    virtual std::optional<order_claim> claim_order(const std::string& order_no, const std::string& trade_no,
                                                   std::int64_t now) = 0;
    // The day's rollups: one more paid order of `cents`, `questions` more credits sold.
    virtual void count_paid_order(std::int64_t at, std::int64_t questions, std::int64_t cents) = 0;
};

}  // namespace chatd::store
