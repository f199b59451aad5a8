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
    // For a command whose result can say "it did not work" (`keys test`): why, in the
    // operator's language, or "" when all is well. chatctl then exits 1, --json or not.
    std::string (*failure)(const boost::json::value& result) = nullptr;
};

// Every command, in the order `chatctl help` lists them.
std::span<const command> command_table();

// The table's rows by noun, each defined beside its commands' builders and
// printers. command_table() joins them.
std::span<const command> status_commands();       // status
std::span<const command> key_commands();          // keys ...
std::span<const command> catalog_commands();      // models, roles, presets ...
std::span<const command> card_commands();         // cards ...
std::span<const command> pay_commands();          // plans ..., orders ...
std::span<const command> user_commands();         // users ...
std::span<const command> log_commands();          // logs, logs show
std::span<const command> report_commands();       // stats, audit
std::span<const command> admin_commands();        // admin add
std::span<const command> maintenance_commands();  // settings ..., backup
std::span<const command> rpc_commands();          // call, methods

}  // namespace chatd::ctl
