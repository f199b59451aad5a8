#pragma once
// multipart/form-data bodies (RFC 7578 over RFC 2046's framing), as browsers and curl send
// uploads. Lines end in CRLF only: a bare LF is not a line end, because accepting one would make
// a binary body ending in CR ambiguous with the delimiter that follows it.
#include <cstddef>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::files {

struct form_part {
    std::string name;          // Content-Disposition's name
    std::string filename;      // filename* (RFC 5987) when given, else filename; no directory part
    std::string content_type;  // the part's Content-Type as sent; empty when it sent none
    std::string_view body;     // a view into the parsed body: it lives as long as that does
};

// The limits of one form; past them the form is refused, not truncated.
inline constexpr std::size_t max_form_parts = 16;
inline constexpr std::size_t max_part_header_bytes = 8 * 1024;

// The parts of `body`, framed as `content_type_header` says ("multipart/form-data;
// boundary=…"). The preamble and epilogue are ignored. Throws app_error("invalid_params") for
// another media type, a missing or bad boundary, a missing closing delimiter, a part without
// Content-Disposition: form-data and a name, headers over max_part_header_bytes, or more than
// max_form_parts parts.
std::vector<form_part> parse_multipart(std::string_view content_type_header, std::string_view body);

}  // namespace chatd::files
