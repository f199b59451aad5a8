#include "billing/balance.hpp"

#include <algorithm>

namespace chatd::billing {

std::optional<charge> plan_charge(const balance& b, std::int64_t cost, std::int64_t now) {
    if (cost < 0 || b.usable(now) < cost) return std::nullopt;
    charge c;
    c.from_paid = std::min(cost, b.usable_paid(now));
    c.from_trial = cost - c.from_paid;
    return c;
}

}  // namespace chatd::billing
