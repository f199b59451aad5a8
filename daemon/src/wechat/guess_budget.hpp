#pragma once
// A site-wide budget of wrong login codes over a sliding window. With any number of client
// addresses an attacker still gets only this many guesses, which is what bounds the chance of
// taking over a waiting code (see chatd.conf(5)). Each attempt takes a slot before its code is
// checked, so a concurrent burst cannot slip past the budget; a right code gives its slot back.
#include <chrono>
#include <deque>
#include <mutex>
#include <optional>

namespace chatd::wechat {

class guess_budget {
public:
    using clock = std::chrono::steady_clock;

    guess_budget(int failures, std::chrono::seconds window);

    // Takes a slot for one attempt and returns it, or nothing while the budget is used up: then
    // the attempt must not be checked at all. The lockout is logged once when it begins.
    std::optional<clock::time_point> reserve(clock::time_point now = clock::now());
    // The attempt's code was right: it does not count as a failure.
    void give_back(clock::time_point slot);
    // Attempts refused since the budget ran out; 0 when it has room.
    int refused() const;

private:
    const int failures_;
    const std::chrono::seconds window_;
    mutable std::mutex mu_;
    std::deque<clock::time_point> slots_;
    int refused_ = 0;
};

}  // namespace chatd::wechat
