#pragma once
// Balance rules, as plain functions over the stored balance: what it is worth at a given time,
// and which bucket pays.
#include <cstdint>
#include <optional>

#include "store/store.hpp"

namespace chatd::billing {

using balance = store::balance;

// Paid credits count only while their expiry is in the future.
std::int64_t usable_paid(const balance& b, std::int64_t now);
std::int64_t usable(const balance& b, std::int64_t now);

using charge = store::charge;

// Paid credits first while valid, then trial. nullopt when the balance cannot cover `cost`.
std::optional<charge> plan_charge(const balance& b, std::int64_t cost, std::int64_t now);
// What a question costs: the model's price, and image_cost for each image it sends. Nothing
// for an operator trying their own site.
std::int64_t question_price(std::int64_t model_cost, std::int64_t image_cost, std::int64_t images,
                            bool asked_by_admin);

// The store's charge_planner for a question of `cost` asked at `now`: throws
// insufficient_credits when the balance cannot cover it.
store::charge_planner question_charge(std::int64_t cost, std::int64_t now);

}  // namespace chatd::billing
