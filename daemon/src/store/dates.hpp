#pragma once
// What the dashboard's day rollups compute outside SQL, the same for every backend: the days
// (server local time) and the first-token latency histogram's buckets.
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chatd::store {

// YYYY-MM-DD in the server's local time, as the dashboard's days are.
std::string local_date(std::int64_t at);

// The local date `back` calendar days before the day of `now` (0: that day).
std::string local_date_before(std::int64_t now, int back);

// Latency histogram buckets about 5 % wide (migration 007 computes the same in SQL).
int latency_bucket(std::int64_t ms);
std::int64_t latency_of_bucket(int bucket);

// The bucket holding the q-th answer of a day's histogram ((bucket, count), by bucket, not
// empty), as its middle value in ms.
std::int64_t latency_percentile(const std::vector<std::pair<int, std::int64_t>>& buckets, double q);

}  // namespace chatd::store
