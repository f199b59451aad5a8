#pragma once
// The providers a configuration fills in (CONTRACT §11, `[pay.*]`), ready for payments.
#include <memory>
#include <vector>

#include "config/config.hpp"
#include "pay/provider.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::pay {

// std::runtime_error naming the file when a key file cannot be read.
std::vector<std::unique_ptr<provider>> configured_providers(const config& c, upstream::client& http);

}  // namespace chatd::pay
