#pragma once

#include <boost/json/value.hpp>
#include <ostream>
#include <span>
#include <string>
#include <string_view>
#include <vector>

#include "client.hpp"

namespace chatd::ctl {

// One chatctl command. The table of these drives dispatch, `chatctl help`, the
// method map, the shell completion and the man page check, so a command exists
// in exactly one place.
struct command {
    std::string_view words;     // "keys add"
    std::string_view method;    // the RPC method it calls; empty for `call`, which names its own
    std::string_view synopsis;  // the arguments after the words
    std::string_view help;      // first line: summary; further lines: details
    // Turns the arguments after the words into a request for `method`; throws usage_error.
    rpc_request (*build)(std::string_view method, const std::vector<std::string>& args);
    // Prints the result for a person; --json bypasses it.
    void (*show)(const boost::json::value& result, const rpc_request& request, std::ostream& out);
};

std::span<const command> command_table();

}  // namespace chatd::ctl
