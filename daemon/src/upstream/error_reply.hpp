#pragma once
// What an OpenAI-compatible upstream says when it refuses: an error body
// {"error":{"message","type","code"}} (some compatible servers put a bare string there) and the
// Retry-After header. Pure text handling, so it is tested without sockets.
#include <boost/json/fwd.hpp>
#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

#include "upstream/upstream_client.hpp"

namespace chatd::upstream {

// Fills error_* from the value of an "error" member: an object in the OpenAI shape, or a bare
// string taken as the message. A numeric code is rendered as text.
void take_error(const boost::json::value& err, outcome& out);

// True when `body` is a JSON object carrying a non-null "error"; the fields land in `out`.
bool take_error_body(std::string_view body, outcome& out);

// A 400 naming `stream_options`: a gateway that does not know the parameter (several answer
// "Unknown parameter: 'stream_options'"), so the question can go again without it.
bool refuses_stream_options(const outcome& o);

// The delay-seconds form of Retry-After; nullopt for an HTTP date or anything malformed.
std::optional<int> parse_retry_after(std::string_view value);

// The first `n` bytes of a reply, marked when cut, to quote in an error message: never cut inside a
// character, and any byte that is not UTF-8 replaced, since the message reaches logs and JSON.
std::string excerpt(std::string_view s, std::size_t n = 200);

}  // namespace chatd::upstream
