#pragma once
// The audit log's record of one admin change: who, through which door, what, and the state
// before and after. Secrets in parameters never reach it (or the log) in full.
#include <boost/json/value.hpp>
#include <string>

#include "rpc/jsonrpc.hpp"
#include "store/types.hpp"

namespace chatd::rpc {

store::audit_row audit_row_of(const call_context& ctx, const std::string& method, const boost::json::value& params,
                              std::int64_t now);

// Passwords and secrets as "***", API keys to their last four characters.
boost::json::value masked_params(const boost::json::value& params);

}  // namespace chatd::rpc
