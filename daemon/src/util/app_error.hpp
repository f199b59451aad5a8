#pragma once
// The one error type for expected failures, with a stable machine reason ("not_found",
// "insufficient_credits", …; util/reasons.hpp lists them). Any layer may throw it; the RPC
// boundary turns it into a JSON-RPC error, an answer stream into an error event.
#include <stdexcept>
#include <string>
#include <string_view>

namespace chatd {

struct app_error : std::runtime_error {
    std::string reason;
    app_error(std::string r, const std::string& message) : std::runtime_error(message), reason(std::move(r)) {}
    // With the reason's default message.
    explicit app_error(std::string r);
};

// Whether `e` is an app_error with `reason` ("storage_full": the disk had no room).
inline bool has_reason(const std::exception& e, std::string_view reason) {
    auto* error = dynamic_cast<const app_error*>(&e);
    return error && error->reason == reason;
}

[[noreturn]] inline void fail(std::string reason, const std::string& message) {
    throw app_error(std::move(reason), message);
}

}  // namespace chatd
