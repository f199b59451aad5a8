#include "wechat/guess_budget.hpp"

#include <algorithm>
#include <spdlog/spdlog.h>

namespace chatd::wechat {

guess_budget::guess_budget(int failures, std::chrono::seconds window) : failures_(failures), window_(window) {}

std::optional<guess_budget::clock::time_point> guess_budget::reserve(clock::time_point now) {
    std::lock_guard lock(mu_);
    while (!slots_.empty() && slots_.front() <= now - window_) slots_.pop_front();
    if (static_cast<int>(slots_.size()) >= failures_) {
        // Never the codes themselves: only that the budget is spent, and how large it is.
        if (refused_++ == 0)
            spdlog::warn("wechat: {} wrong login codes within {} s from all clients, likely a guessing attack; "
                         "code login is refused to everyone until the window has room",
                         slots_.size(), window_.count());
        return std::nullopt;
    }
    if (refused_ > 0) {
        spdlog::info("wechat: code login open again after refusing {} attempts", refused_);
        refused_ = 0;
    }
    // Kept in time order even if a caller's `now` is a little older than the newest slot.
    slots_.insert(std::upper_bound(slots_.begin(), slots_.end(), now), now);
    return now;
}

void guess_budget::give_back(clock::time_point slot) {
    std::lock_guard lock(mu_);
    if (auto it = std::find(slots_.rbegin(), slots_.rend(), slot); it != slots_.rend())
        slots_.erase(std::next(it).base());
}

int guess_budget::refused() const {
    std::lock_guard lock(mu_);
    return refused_;
}

}  // namespace chatd::wechat
