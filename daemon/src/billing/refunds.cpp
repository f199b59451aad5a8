#include "billing/refunds.hpp"

namespace chatd::billing {

refund_decision decide_refund(const std::string& status, bool got_text, std::optional<std::int64_t> first_token_ms,
                              std::int64_t free_if_slower_than_s) {
    if (status == "failed" || status == "interrupted" || (status == "stopped" && !got_text)) return {true, ""};
    if (free_if_slower_than_s > 0 && first_token_ms && *first_token_ms > free_if_slower_than_s * 1000)
        return {true, "slow"};
    return {};
}

}  // namespace chatd::billing
