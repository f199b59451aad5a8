#pragma once
// Base64 in the standard alphabet with padding (RFC 4648 §4), over OpenSSL.
#include <optional>
#include <string>
#include <string_view>

namespace chatd {

std::string base64_encode(std::string_view bytes);
// nullopt on anything that is not padded standard base64.
std::optional<std::string> base64_decode(std::string_view text);

}  // namespace chatd
