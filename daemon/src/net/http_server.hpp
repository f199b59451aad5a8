#pragma once
// HTTP/1.1 listeners (TCP and Unix socket) with one coroutine per connection, keep-alive,
// a body limit and read deadlines, and a registry to close every connection on shutdown.
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <functional>
#include <vector>
#include <optional>
#include <string_view>
#include <memory>
#include <string>

#include "net/http.hpp"

namespace chatd::net {

// What one request may send: its body size, and the time to receive it whole.
struct body_allowance {
    std::size_t max_body = 1 << 20;
    std::chrono::seconds read_timeout{30};
};

struct server_limits {
    std::size_t max_body = 1 << 20;
    std::size_t max_header = 16 << 10;
    std::chrono::seconds read_timeout{30};   // a whole request, once it has begun
    std::chrono::seconds idle_timeout{75};   // keep-alive wait for the next request
    std::chrono::seconds write_timeout{30};  // each write, including each SSE chunk
    // Requests allowed more than the above (uploads), chosen by the routes from the head.
    std::function<std::optional<body_allowance>(std::string_view method, std::string_view path)> larger_body;
};

class http_server {
public:
    // Listens on `ioc`; each accepted connection goes to the next of `session_loops` in turn
    // (default: `ioc`), where its requests and the answers they start run.
    http_server(boost::asio::io_context& ioc, handler h, server_limits limits = {},
                std::vector<boost::asio::io_context*> session_loops = {});
    ~http_server();

    // Both throw std::runtime_error with a clear message on failure.
    unsigned short listen_tcp(const std::string& host, unsigned short port);
    // Refuses a path held by another live process (lock file), removes a stale socket,
    // and leaves the socket at mode 0660.
    void listen_unix(const std::string& path);

    void stop_accepting();
    // Closes connections (after the drain); with idle_only, those waiting for a request.
    // Either way, busy connections end after their current response.
    void close_all(bool idle_only = false);
    std::size_t connections() const;

private:
    struct impl;
    std::shared_ptr<impl> impl_;
};

}  // namespace chatd::net
