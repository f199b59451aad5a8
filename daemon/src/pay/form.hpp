#pragma once
// application/x-www-form-urlencoded as payment channels speak it, the "k=v&k=v" text that epay
// (MD5) and Alipay (RSA2) sign, and amounts in yuan strings against integer fen.
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd::pay {

using form = std::vector<std::pair<std::string, std::string>>;

// Fields in the order sent, values percent-decoded ('+' is a space).
form parse_form(std::string_view encoded);
std::string encode_form(const form& fields);
std::string url_encode(std::string_view s);
// The field's value; empty when it is absent.
std::string field(const form& fields, std::string_view name);
// Every non-empty field but sign and sign_type, sorted by name, joined as k=v&k=v, values as
// they are (not encoded): what epay signs, and Alipay's notifications. Alipay's requests sign
// sign_type too (`with_sign_type`).
std::string sign_text(const form& fields, bool with_sign_type = false);

// "12.34", "12.3", "12" → 1234, 1230, 1200 fen; nullopt for anything else (a third decimal, a
// sign, an exponent): amounts are compared in integer fen, never as floating point.
std::optional<std::int64_t> parse_yuan(std::string_view s);
// 1234 → "12.34".
std::string yuan(std::int64_t cents);

}  // namespace chatd::pay
