#pragma once
// Recharge card codes and the redemption rule, as plain functions.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

#include "billing/balance.hpp"

namespace chatd::billing {

// 16 characters from Crockford base32 (80 bits from the CSPRNG), stored without dashes.
std::string new_card_code();
// "XXXX-XXXX-XXXX-XXXX".
std::string format_card_code(std::string_view code);
// Any case, with or without dashes or spaces; Crockford's look-alikes (O→0, I/L→1) accepted.
// nullopt when it cannot be a card code.
std::optional<std::string> normalise_card_code(std::string_view input);

// A card adds `questions` paid credits for `days`. While paid credits are still valid they
// are kept and the expiry moves out by `days` (renewal); once expired they are forfeited and
// the new credits run from now.
struct redemption {
    balance after;
    std::int64_t forfeited = 0;  // expired paid credits dropped by this redemption
};
redemption apply_card(const balance& before, std::int64_t questions, std::int64_t days, std::int64_t now);

}  // namespace chatd::billing
