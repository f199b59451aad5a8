#include "util/loop_lag.hpp"

#include <algorithm>

namespace chatd {

void loop_lag::start(boost::asio::io_context& loop) {
    timer_.emplace(loop);
    arm(std::chrono::steady_clock::now() + period);
}

void loop_lag::arm(std::chrono::steady_clock::time_point due) {
    timer_->expires_at(due);
    timer_->async_wait([this, due](const boost::system::error_code& ec) {
        if (ec) return;
        const auto now = std::chrono::steady_clock::now();
        const auto late = std::chrono::duration_cast<std::chrono::microseconds>(now - due).count();
        if (late > current_us_.load(std::memory_order_relaxed)) current_us_.store(late, std::memory_order_relaxed);
        if (++probes_ == probes_per_window) {
            probes_ = 0;
            previous_us_.store(current_us_.load(std::memory_order_relaxed), std::memory_order_relaxed);
            current_us_.store(0, std::memory_order_relaxed);
        }
        arm(now + period);
    });
}

double loop_lag::worst_seconds() const {
    return static_cast<double>(std::max(current_us_.load(std::memory_order_relaxed),
                                        previous_us_.load(std::memory_order_relaxed))) / 1e6;
}

}  // namespace chatd
