#pragma once

#include <stdexcept>
#include <string>

namespace chatd::ctl {

// The exit status is part of the interface: scripts branch on it.
enum class exit_status : int {
    ok = 0,
    daemon_error = 1,
    usage = 2,
    no_connection = 3,
};

// Bad command line or bad input on stdin; the caller adds the usage line.
struct usage_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The socket could not be reached, or the exchange was cut short.
struct connection_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

// The daemon answered, but not with a result.
struct daemon_error : std::runtime_error {
    daemon_error(const std::string& message, std::string reason)
        : std::runtime_error(message), reason(std::move(reason)) {}
    std::string reason;
};

}  // namespace chatd::ctl
