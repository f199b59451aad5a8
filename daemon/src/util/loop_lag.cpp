#include "util/loop_lag.hpp"

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
        worst_.note(std::chrono::duration<double>(now - due).count(), now);
        arm(now + period);
    });
}

}  // namespace chatd
