#pragma once

#include <boost/json/value.hpp>
#include <chrono>
#include <optional>
#include <string>

namespace chatd::ctl {

struct rpc_request {
    std::string method;
    // Absent params are left out of the request rather than sent as null.
    std::optional<boost::json::value> params;
};

// Sends one JSON-RPC request to the admin socket and returns its `result`.
// Throws connection_error when the daemon cannot be reached or the exchange does
// not finish within `timeout`, daemon_error when the daemon answers with an error.
boost::json::value call(const std::string& socket_path, const rpc_request& request,
                        std::chrono::milliseconds timeout);

}  // namespace chatd::ctl
