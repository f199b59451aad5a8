#pragma once
// The largest of a stream of measurements over the last one to two windows: what a gauge in
// /metrics shows as "the worst lately". Noted and read from any thread.
#include <algorithm>
#include <chrono>
#include <mutex>

namespace chatd {

class windowed_max {
public:
    using clock = std::chrono::steady_clock;
    explicit windowed_max(clock::duration window) : window_(window), start_(clock::now()) {}

    void note(double value, clock::time_point now = clock::now()) {
        std::lock_guard lock(mu_);
        rotate(now);
        current_ = std::max(current_, value);
    }

    // 0 when nothing was noted in the last one to two windows.
    double worst(clock::time_point now = clock::now()) const {
        std::lock_guard lock(mu_);
        rotate(now);
        return std::max(current_, previous_);
    }

private:
    void rotate(clock::time_point now) const {
        if (now - start_ < window_) return;
        previous_ = now - start_ < 2 * window_ ? current_ : 0.0;
        current_ = 0.0;
        start_ = now - (now - start_) % window_;
    }

    const clock::duration window_;
    mutable std::mutex mu_;
    mutable clock::time_point start_;
    mutable double current_ = 0.0;
    mutable double previous_ = 0.0;
};

}  // namespace chatd
