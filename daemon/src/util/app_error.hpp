#pragma once
// An expected failure with a stable machine reason ("not_found", "insufficient_credits", …).
// Any layer may throw it; the RPC boundary turns it into a JSON-RPC error.
#include <stdexcept>
#include <string>

namespace chatd {

struct app_error : std::runtime_error {
    std::string reason;
    app_error(std::string r, const std::string& message)
        : std::runtime_error(message), reason(std::move(r)) {}
};

}  // namespace chatd
