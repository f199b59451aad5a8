#include "util/rate_limiter.hpp"

#include <algorithm>

namespace chatd {

void rate_limiter::prune(std::deque<clock::time_point>& q, std::chrono::seconds window,
                         clock::time_point now) {
    while (!q.empty() && q.front() <= now - window) q.pop_front();
}

void rate_limiter::sweep(clock::time_point now) {
    // Forget keys idle for over a day so memory stays bounded under scans from many IPs.
    if (now - last_sweep_ < std::chrono::minutes(10)) return;
    last_sweep_ = now;
    for (auto it = events_.begin(); it != events_.end();) {
        if (it->second.empty() || it->second.back() < now - std::chrono::hours(24))
            it = events_.erase(it);
        else
            ++it;
    }
}

bool rate_limiter::allow(const std::string& key, int limit, std::chrono::seconds window,
                         clock::time_point now) {
    std::lock_guard lock(mu_);
    sweep(now);
    auto& q = events_[key];
    prune(q, window, now);
    if (static_cast<int>(q.size()) >= limit) return false;
    q.push_back(now);
    return true;
}

void rate_limiter::release(const std::string& key, clock::time_point at) {
    std::lock_guard lock(mu_);
    auto it = events_.find(key);
    if (it == events_.end()) return;
    auto& q = it->second;
    if (auto e = std::find(q.rbegin(), q.rend(), at); e != q.rend()) q.erase(std::next(e).base());
}

void rate_limiter::reset(const std::string& key) {
    std::lock_guard lock(mu_);
    events_.erase(key);
}

}  // namespace chatd
