#pragma once
// Values to and from PostgreSQL's text form, for the store's nouns in this folder: integers,
// flags (0/1 in BIGINT columns, as in SQLite), optional values as NULL, and the inverse.
#include <charconv>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "store/postgres/pg.hpp"

namespace chatd::store::pg {

// A text[] literal, for statements that take many values in one parameter.
inline std::string text_array(std::vector<std::string>::const_iterator first,
                              std::vector<std::string>::const_iterator last) {
    std::string out = "{";
    for (auto it = first; it != last; ++it) {
        if (it != first) out += ',';
        out += '"';
        for (char ch : *it) {
            if (ch == '"' || ch == '\\') out += '\\';
            out += ch;
        }
        out += '"';
    }
    return out + "}";
}

inline param p(std::int64_t v) { return std::to_string(v); }
inline param p(int v) { return std::to_string(v); }
inline param p(bool v) { return std::string(v ? "1" : "0"); }
inline param p(const std::string& v) { return v; }
inline param p(const char* v) { return std::string(v); }
inline param p(double v) {
    char buf[32];
    auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v);
    return std::string(buf, end);
}
template <class T>
param p(const std::optional<T>& v) {
    return v ? p(*v) : param{};
}
// NULL for an empty text, as SQLite's bind_text_or_null.
inline param text_or_null(const std::string& v) { return v.empty() ? param{} : param{v}; }

// Readers of one field; NULL reads as an empty optional, an empty text, 0 or false.
inline std::string str(const result& r, int row, int column) { return std::string(r.text(row, column)); }
inline std::int64_t i64(const result& r, int row, int column) {
    return r.is_null(row, column) ? 0 : r.integer(row, column);
}
inline bool flag(const result& r, int row, int column) { return i64(r, row, column) != 0; }
inline std::optional<std::int64_t> opt_i64(const result& r, int row, int column) {
    if (r.is_null(row, column)) return std::nullopt;
    return r.integer(row, column);
}
inline std::optional<int> opt_int(const result& r, int row, int column) {
    if (r.is_null(row, column)) return std::nullopt;
    return static_cast<int>(r.integer(row, column));
}
double real(const result& r, int row, int column);

// Bytes for a BYTEA column, which cross as text: hex for decode($n, 'hex') on the way in and
// from encode(column, 'hex') on the way out.
inline std::string hex_of(std::string_view bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(bytes.size() * 2);
    for (unsigned char c : bytes) out.append({digits[c >> 4], digits[c & 15]});
    return out;
}
inline std::string bytes_of_hex(std::string_view hex) {
    auto nibble = [](char c) { return c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10; };
    std::string out(hex.size() / 2, '\0');
    for (std::size_t i = 0; i < out.size(); ++i)
        out[i] = static_cast<char>(nibble(hex[2 * i]) << 4 | nibble(hex[2 * i + 1]));
    return out;
}

}  // namespace chatd::store::pg
