#include "util/app_error.hpp"

#include "util/reasons.hpp"

namespace chatd {

namespace {

std::string default_message(const std::string& reason) {
    auto* r = find_reason(reason);
    return r ? std::string(r->message) : reason;
}

}  // namespace

app_error::app_error(std::string r) : std::runtime_error(default_message(r)), reason(std::move(r)) {}

}  // namespace chatd
