#pragma once
// What the payment channels' wire formats share: application/x-www-form-urlencoded, the
// "k=v&k=v" text that epay (MD5) and Alipay (RSA2) sign, amounts in yuan strings against integer
// fen, China's clock, and text fields of their JSON answers.
#include <boost/json/object.hpp>
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

// Unix seconds in China's time (UTC+8, no daylight saving) by strftime's `format`: the channels
// read and write their times so.
std::string china_time(std::int64_t at, const char* format);

// A string field of a JSON answer, or a number's digits (epay sends "code":1 and "code":"1");
// empty when absent.
std::string json_text(const boost::json::object& o, std::string_view key);

}  // namespace chatd::pay
