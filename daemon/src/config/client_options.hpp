#pragma once
// The upstream HTTP client's settings from the config: one client for the model providers,
// one for WeChat's API and the payment providers (reached directly: WeChat checks the caller's
// address against the account's IP whitelist, so the model providers' proxy is not for them).
#include "config/config.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd {

upstream::client_options provider_client_options(const config& c);
upstream::client_options direct_client_options(const config& c);

}  // namespace chatd
