#include "billing/usage_cost.hpp"

namespace chatd::billing {

double upstream_cost(std::int64_t prompt_tokens, std::int64_t completion_tokens, double price_in, double price_out) {
    return (static_cast<double>(prompt_tokens) * price_in + static_cast<double>(completion_tokens) * price_out) /
           1'000'000.0;
}

}  // namespace chatd::billing
