#pragma once
// The narrow part of the store that billing's rules work over: balances, the append-only
// ledger, card claims and sales counts, inside one transaction. The store implements it;
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
};

}  // namespace chatd::store
