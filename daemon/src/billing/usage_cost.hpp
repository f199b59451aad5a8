#pragma once
// What an answer's tokens cost the operator upstream, at the model's prices per 1,000,000
// tokens (reasoning is part of the completion tokens, as providers bill it).
#include <cstdint>

namespace chatd::billing {

double upstream_cost(std::int64_t prompt_tokens, std::int64_t completion_tokens, double price_in, double price_out);

}  // namespace chatd::billing
