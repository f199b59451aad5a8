#pragma once
// Sliding-window counters keyed by string ("login:ip:1.2.3.4"). In memory: limits protect
// this process; they reset on restart, which is acceptable for abuse throttling.
#include <chrono>
#include <deque>
#include <mutex>
#include <string>
#include <unordered_map>

namespace chatd {

class rate_limiter {
public:
    using clock = std::chrono::steady_clock;

    // Records one event for `key` and returns true if it is within `limit` per `window`.
    // Refused attempts are not recorded, so a blocked client is let in once the window passes.
    bool allow(const std::string& key, int limit, std::chrono::seconds window,
               clock::time_point now = clock::now());
    // Takes back the event allow() recorded at `at`: the attempt turned out not to count.
    void release(const std::string& key, clock::time_point at);
    void reset(const std::string& key);

private:
    void prune(std::deque<clock::time_point>& q, std::chrono::seconds window,
               clock::time_point now);
    void sweep(clock::time_point now);
    std::mutex mu_;
    std::unordered_map<std::string, std::deque<clock::time_point>> events_;
    clock::time_point last_sweep_{};
};

}  // namespace chatd
