#include "pay/form.hpp"

#include <algorithm>
#include <cctype>
#include <cstdio>
#include <ctime>

#include "net/http.hpp"

namespace chatd::pay {

form parse_form(std::string_view encoded) {
    form out;
    while (!encoded.empty()) {
        auto amp = encoded.find('&');
        auto pair = encoded.substr(0, amp);
        if (!pair.empty()) {
            auto eq = pair.find('=');
            out.emplace_back(net::percent_decode(pair.substr(0, eq), true),
                             eq == std::string_view::npos ? std::string() : net::percent_decode(pair.substr(eq + 1), true));
        }
        if (amp == std::string_view::npos) break;
        encoded.remove_prefix(amp + 1);
    }
    return out;
}

std::string url_encode(std::string_view s) {
    static const char hex[] = "0123456789ABCDEF";
    std::string out;
    for (unsigned char c : s) {
        if (std::isalnum(c) || c == '-' || c == '_' || c == '.' || c == '~') {
            out += static_cast<char>(c);
        } else {
            out += '%';
            out += hex[c >> 4];
            out += hex[c & 15];
        }
    }
    return out;
}

std::string encode_form(const form& fields) {
    std::string out;
    for (const auto& [name, value] : fields) {
        if (!out.empty()) out += '&';
        out += url_encode(name) + "=" + url_encode(value);
    }
    return out;
}

std::string field(const form& fields, std::string_view name) {
    for (const auto& [n, v] : fields)
        if (n == name) return v;
    return {};
}

std::string sign_text(const form& fields, bool with_sign_type) {
    form kept;
    for (const auto& f : fields)
        if (!f.second.empty() && f.first != "sign" && (with_sign_type || f.first != "sign_type")) kept.push_back(f);
    std::sort(kept.begin(), kept.end());
    std::string out;
    for (const auto& [name, value] : kept) {
        if (!out.empty()) out += '&';
        out += name + "=" + value;
    }
    return out;
}

std::optional<std::int64_t> parse_yuan(std::string_view s) {
    auto dot = s.find('.');
    auto whole = s.substr(0, dot);
    auto frac = dot == std::string_view::npos ? std::string_view() : s.substr(dot + 1);
    if (whole.empty() || whole.size() > 12 || frac.size() > 2 || (dot != std::string_view::npos && frac.empty()))
        return std::nullopt;
    std::int64_t cents = 0;
    for (char c : whole) {
        if (c < '0' || c > '9') return std::nullopt;
        cents = cents * 10 + (c - '0');
    }
    for (std::size_t i = 0; i < 2; ++i) {
        char c = i < frac.size() ? frac[i] : '0';
        if (c < '0' || c > '9') return std::nullopt;
        cents = cents * 10 + (c - '0');
    }
    return cents;
}

std::string yuan(std::int64_t cents) {
    char out[32];
    std::snprintf(out, sizeof out, "%lld.%02lld", static_cast<long long>(cents / 100),
                  static_cast<long long>(cents % 100));
    return out;
}

std::string china_time(std::int64_t at, const char* format) {
    std::time_t t = static_cast<std::time_t>(at + 8 * 3600);
    std::tm tm{};
    gmtime_r(&t, &tm);
    char out[64];
    std::strftime(out, sizeof out, format, &tm);
    return out;
}

std::string json_text(const boost::json::object& o, std::string_view key) {
    const auto* v = o.if_contains(key);
    if (!v) return {};
    if (v->is_string()) return std::string(v->get_string());
    if (v->is_int64()) return std::to_string(v->get_int64());
    return {};
}

}  // namespace chatd::pay
