#pragma once
// How late an event loop runs what is due. Everything a loop does (a token relayed, a question
// admitted) waits behind what it is already doing, so this wait is part of every latency a
// user sees; /metrics shows it per loop.
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <optional>

#include "util/windowed_max.hpp"

namespace chatd {

class loop_lag {
public:
    static constexpr auto period = std::chrono::milliseconds(100);
    static constexpr auto window = std::chrono::seconds(10);

    // Probes `loop` with a timer every `period`, measuring how long past its deadline it runs,
    // until the loop stops. Call once, before the loop runs.
    void start(boost::asio::io_context& loop);
    // The longest delay over the last one to two windows (10-20 s), in seconds.
    double worst_seconds() const { return worst_.worst(); }

private:
    void arm(std::chrono::steady_clock::time_point due);

    std::optional<boost::asio::steady_timer> timer_;
    windowed_max worst_{window};  // read by /metrics on other threads
};

}  // namespace chatd
