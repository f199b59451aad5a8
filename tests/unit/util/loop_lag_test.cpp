#include <catch2/catch.hpp>

#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/steady_timer.hpp>
#include <chrono>
#include <thread>

#include "util/loop_lag.hpp"

using namespace chatd;
using namespace std::chrono_literals;

TEST_CASE("a loop held up by a slow handler shows the delay it caused") {
    boost::asio::io_context loop;
    loop_lag lag;
    lag.start(loop);
    CHECK(lag.worst_seconds() == 0.0);
    boost::asio::steady_timer hold(loop, 150ms);
    hold.async_wait([](const boost::system::error_code&) { std::this_thread::sleep_for(400ms); });
    loop.run_for(900ms);
    // The probe due during the 400 ms hold ran at least ~300 ms late.
    CHECK(lag.worst_seconds() >= 0.29);
    CHECK(lag.worst_seconds() < 5.0);
}
