#pragma once
// Absolute http(s) URLs as the upstream client needs them: where to connect and what to ask for.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace chatd::upstream {

struct url {
    std::string scheme;  // "http" or "https", lower case
    std::string host;    // lower case; an IPv6 literal without its brackets
    std::uint16_t port = 0;
    std::string target;  // path and query, always starting with '/'

    bool tls() const { return scheme == "https"; }
    // "host" or "host:port" (port omitted when it is the scheme's default), IPv6 bracketed.
    std::string host_header() const;
    // "host:port" with IPv6 bracketed, as a CONNECT request names its destination.
    std::string authority() const;
};

// Accepts http:// and https:// URLs with an optional port and path; rejects user info,
// empty hosts and ports outside 1..65535. A fragment is dropped.
std::optional<url> parse_url(std::string_view text);

// An HTTP proxy given as "http://host:port" or just "host:port".
std::optional<url> parse_proxy(std::string_view text);

// base "/v1" or "/v1/" + "/chat/completions" -> "/v1/chat/completions".
std::string join_target(std::string_view base, std::string_view suffix);

}  // namespace chatd::upstream
