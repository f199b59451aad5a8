#pragma once
// Small text helpers shared by the daemon: UTF-8 checks and safe truncation, masking.
#include <string>
#include <string_view>
#include <vector>

namespace chatd {

bool valid_utf8(std::string_view s);
// `s` with every byte that starts no well-formed UTF-8 sequence replaced by U+FFFD.
std::string utf8_repaired(std::string_view s);
// At most max_bytes bytes, never cutting a UTF-8 sequence.
std::string_view utf8_prefix(std::string_view s, std::size_t max_bytes);
// Largest index <= pos that is not inside a UTF-8 sequence.
std::size_t utf8_floor(std::string_view s, std::size_t pos);
std::size_t utf8_length(std::string_view s);
// "sk-…abcd": never more than the last four characters of a secret.
std::string mask_secret(std::string_view secret);
std::string trim(std::string_view s);
// "a, b,,c" → {"a", "b", "c"}: the trimmed, non-empty items of a comma-separated list.
std::vector<std::string> split_list(std::string_view s);
// A-Z to a-z only: protocol tokens (schemes, host names, media types), whatever the locale.
std::string ascii_lower(std::string_view s);

}  // namespace chatd
