#include "store/dates.hpp"

#include <algorithm>
#include <cmath>
#include <ctime>

namespace chatd::store {

std::string local_date(std::int64_t at) {
    std::time_t t = static_cast<std::time_t>(at);
    std::tm tm{};
    localtime_r(&t, &tm);
    char buf[16];
    std::strftime(buf, sizeof buf, "%Y-%m-%d", &tm);
    return buf;
}

std::string local_date_before(std::int64_t now, int back) {
    std::time_t t = static_cast<std::time_t>(now);
    std::tm day{};
    localtime_r(&t, &day);
    // Noon, so DST shifts cannot skip or repeat a date.
    day.tm_mday -= back;
    day.tm_hour = 12;
    day.tm_isdst = -1;
    return local_date(static_cast<std::int64_t>(std::mktime(&day)));
}

int latency_bucket(std::int64_t ms) {
    return static_cast<int>(std::llround(std::log1p(static_cast<double>(std::max<std::int64_t>(ms, 0))) * 20));
}

std::int64_t latency_of_bucket(int bucket) { return std::llround(std::expm1(bucket / 20.0)); }

std::int64_t latency_percentile(const std::vector<std::pair<int, std::int64_t>>& buckets, double q) {
    std::int64_t total = 0;
    for (auto& b : buckets) total += b.second;
    auto rank = std::max<std::int64_t>(static_cast<std::int64_t>(std::ceil(q * static_cast<double>(total))), 1);
    std::int64_t seen = 0;
    for (auto& b : buckets)
        if ((seen += b.second) >= rank) return latency_of_bucket(b.first);
    return latency_of_bucket(buckets.back().first);
}

}  // namespace chatd::store
