#include "billing/balance.hpp"

#include <algorithm>

#include "util/app_error.hpp"

namespace chatd::billing {

std::int64_t usable_paid(const balance& b, std::int64_t now) {
    return b.paid_expires_at && *b.paid_expires_at > now ? b.paid : 0;
}

std::int64_t usable(const balance& b, std::int64_t now) { return b.trial + usable_paid(b, now); }

std::optional<charge> plan_charge(const balance& b, std::int64_t cost, std::int64_t now) {
    if (cost < 0 || usable(b, now) < cost) return std::nullopt;
    charge c;
    c.paid = std::min(cost, usable_paid(b, now));
    c.trial = cost - c.paid;
    return c;
}

store::charge_planner question_charge(std::int64_t cost, std::int64_t now) {
    return [cost, now](const balance& b) {
        auto plan = plan_charge(b, cost, now);
        if (!plan) throw app_error("insufficient_credits", "not enough credits");
        return *plan;
    };
}

std::int64_t question_price(std::int64_t model_cost, std::int64_t image_cost, std::int64_t images,
                            bool asked_by_admin) {
    return asked_by_admin ? 0 : model_cost + image_cost * images;
}

}  // namespace chatd::billing
