// The HTTP server's accepting loop: what it does with a listen queue that a burst has filled.
#include <catch2/catch.hpp>

#include <boost/asio/ip/tcp.hpp>
#include <vector>

#include "net/http_server.hpp"

using namespace chatd;
namespace asio = boost::asio;
using tcp = asio::ip::tcp;

TEST_CASE("a burst of connections waiting in the listen queue is taken in one turn of the accepting loop") {
    // Both loops are driven by hand, so that the accepting loop's turns can be counted.
    asio::io_context accepting, sessions;
    net::http_server server(
        accepting, [](net::request&, net::responder&) -> asio::awaitable<void> { co_return; }, {}, {&sessions});
    const auto port = server.listen_tcp("127.0.0.1", 0);

    // The kernel completes these connections into the listen queue before chatd looks at it.
    constexpr std::size_t burst = 40;
    asio::io_context client_side;
    std::vector<tcp::socket> visitors;
    for (std::size_t i = 0; i < burst; ++i) {
        visitors.emplace_back(client_side);
        visitors.back().connect({asio::ip::make_address("127.0.0.1"), port});
    }

    // One turn starts the accept loop, the next completes its first accept: taking the others
    // one per turn would leave most of them waiting behind a busy loop's other work.
    for (int turn = 0; turn < 3; ++turn) accepting.poll_one();
    sessions.poll();
    CHECK(server.connections() == burst);

    for (auto& v : visitors) v.close();
    server.stop_accepting();
    server.close_all();
    accepting.poll();
    sessions.poll();
}
