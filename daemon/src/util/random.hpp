#pragma once
// Secrets from the operating system's CSPRNG (OpenSSL RAND_bytes).
#include <cstdint>
#include <string>

namespace chatd {

std::string random_bytes(std::size_t n);
std::string random_hex(std::size_t bytes);         // 2*bytes lowercase hex characters
std::string random_token(std::size_t bytes);       // URL-safe base64 without padding
std::string random_base32(std::size_t chars);      // Crockford base32 alphabet
std::string random_digits(std::size_t n);          // n uniform decimal digits, leading zeros kept
std::string sha256_hex(std::string_view data);
// Only where a protocol demands it (epay's signatures): MD5 protects nothing of ours.
std::string md5_hex(std::string_view data);
bool constant_time_equal(std::string_view a, std::string_view b);

}  // namespace chatd
