#pragma once
// Balance rules, as plain functions (no storage): which bucket pays, and what a balance is
// worth at a given time.
#include <cstdint>
#include <optional>

namespace chatd::billing {

struct balance {
    std::int64_t trial = 0;
    std::int64_t paid = 0;
    std::optional<std::int64_t> paid_expires_at;  // null when there are no paid credits

    // Paid credits count only while their expiry is in the future.
    std::int64_t usable_paid(std::int64_t now) const {
        return paid_expires_at && *paid_expires_at > now ? paid : 0;
    }
    std::int64_t usable(std::int64_t now) const { return trial + usable_paid(now); }
};

struct charge {
    std::int64_t from_paid = 0;
    std::int64_t from_trial = 0;
    std::int64_t total() const { return from_paid + from_trial; }
};

// Paid credits first while valid, then trial. nullopt when the balance cannot cover `cost`.
std::optional<charge> plan_charge(const balance& b, std::int64_t cost, std::int64_t now);

}  // namespace chatd::billing
