// The fake's HTTP side: accepting connections (plain or TLS), routing requests to the chat,
// model, balance and test-hook answers, and writing streamed answers on time.
#pragma once

#include "fake_upstream_plan.hpp"
#include "fake_upstream_stats.hpp"

#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>

namespace chatd::fake {

struct server {
    defaults answer;
    stats counters;
};

// Serves every connection on its own strand until the acceptor is closed; `tls` may be null.
boost::asio::awaitable<void> accept_loop(boost::asio::ip::tcp::acceptor& acceptor, server& srv,
                                         boost::asio::ssl::context* tls);

}  // namespace chatd::fake
