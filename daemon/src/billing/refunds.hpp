#pragma once
// Whether a question's charge is given back once its answer has ended.
#include <cstdint>
#include <optional>
#include <string>

namespace chatd::billing {

struct refund_decision {
    bool refund = false;
    std::string free_reason;  // "slow": the answer was fine but its first token came too late
};

// Charged: a finished answer, or one the user stopped after it began. Everything that failed
// on our side is refunded, and so is an answer slower to its first token than
// `free_if_slower_than_s` seconds (0 = off).
refund_decision decide_refund(const std::string& status, bool got_text, std::optional<std::int64_t> first_token_ms,
                              std::int64_t free_if_slower_than_s);

}  // namespace chatd::billing
