#include "files/multipart.hpp"

#include <algorithm>
#include <functional>
#include <optional>
#include <utility>

#include "util/app_error.hpp"
#include "util/text.hpp"

namespace chatd::files {

namespace {

[[noreturn]] void malformed(const std::string& why) {
    throw app_error("invalid_params", "malformed multipart/form-data: " + why);
}

bool is_space(char c) {
    return c == ' ' || c == '\t';
}

std::string_view trim_spaces(std::string_view s) {
    while (!s.empty() && is_space(s.front())) s.remove_prefix(1);
    while (!s.empty() && is_space(s.back())) s.remove_suffix(1);
    return s;
}

// A header's value with its parameters: `type; name=token; name="quoted \"string\""`.
// Parameter names are lowercased (they are case-insensitive); values are kept as sent.
struct header_value {
    std::string value;
    std::vector<std::pair<std::string, std::string>> params;

    const std::string* param(std::string_view name) const {
        for (const auto& [n, v] : params)
            if (n == name) return &v;
        return nullptr;
    }
};

header_value parse_header_value(std::string_view s) {
    header_value out;
    std::size_t pos = std::min(s.find(';'), s.size());
    out.value = ascii_lower(trim_spaces(s.substr(0, pos)));
    while (pos < s.size()) {
        ++pos;  // the ';'
        while (pos < s.size() && is_space(s[pos])) ++pos;
        if (pos == s.size()) break;  // a trailing ';' says nothing
        auto eq = s.find_first_of("=;", pos);
        if (eq == std::string_view::npos || s[eq] != '=')
            malformed("a header parameter has no value");
        std::string name = ascii_lower(trim_spaces(s.substr(pos, eq - pos)));
        pos = eq + 1;
        while (pos < s.size() && is_space(s[pos])) ++pos;
        std::string value;
        if (pos < s.size() && s[pos] == '"') {
            // quoted-string (RFC 9110 §5.6.4): a backslash quotes the next character.
            for (++pos;; ++pos) {
                if (pos >= s.size()) malformed("a quoted header parameter never ends");
                if (s[pos] == '"') break;
                if (s[pos] == '\\' && pos + 1 < s.size()) ++pos;
                value.push_back(s[pos]);
            }
            ++pos;
            while (pos < s.size() && is_space(s[pos])) ++pos;
            if (pos < s.size() && s[pos] != ';') malformed("text after a quoted header parameter");
        } else {
            auto end = std::min(s.find(';', pos), s.size());
            value = std::string(trim_spaces(s.substr(pos, end - pos)));
            pos = end;
        }
        out.params.emplace_back(std::move(name), std::move(value));
    }
    return out;
}

int hex_value(char c) {
    if (c >= '0' && c <= '9') return c - '0';
    if (c >= 'a' && c <= 'f') return c - 'a' + 10;
    if (c >= 'A' && c <= 'F') return c - 'A' + 10;
    return -1;
}

// RFC 5987's ext-value, `charset'language'percent-encoded`, as UTF-8; nullopt when it cannot be
// read, so that the plain filename is used instead.
std::optional<std::string> decode_ext_value(std::string_view s) {
    auto first = s.find('\'');
    if (first == std::string_view::npos) return std::nullopt;
    auto second = s.find('\'', first + 1);
    if (second == std::string_view::npos) return std::nullopt;
    std::string charset = ascii_lower(s.substr(0, first));
    std::string bytes;
    for (std::size_t i = second + 1; i < s.size(); ++i) {
        if (s[i] != '%') {
            bytes.push_back(s[i]);
            continue;
        }
        if (i + 2 >= s.size()) return std::nullopt;
        int hi = hex_value(s[i + 1]), lo = hex_value(s[i + 2]);
        if (hi < 0 || lo < 0) return std::nullopt;
        bytes.push_back(static_cast<char>(hi * 16 + lo));
        i += 2;
    }
    if (charset == "utf-8") return valid_utf8(bytes) ? std::optional(bytes) : std::nullopt;
    if (charset == "iso-8859-1") {
        std::string utf8;
        for (unsigned char c : bytes) {
            if (c < 0x80) {
                utf8.push_back(static_cast<char>(c));
            } else {
                utf8.push_back(static_cast<char>(0xC0 | (c >> 6)));
                utf8.push_back(static_cast<char>(0x80 | (c & 0x3F)));
            }
        }
        return utf8;
    }
    return std::nullopt;
}

// RFC 7578 §4.2: a receiver ignores the directory part of a filename.
std::string without_directory(std::string name) {
    auto slash = name.find_last_of("/\\");
    return slash == std::string::npos ? name : name.substr(slash + 1);
}

// RFC 2046 §5.1.1: 1 to 70 of these characters, not ending in a space.
bool valid_boundary(std::string_view b) {
    static constexpr std::string_view bchars =
        "0123456789abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ'()+_,-./:=? ";
    return !b.empty() && b.size() <= 70 && b.back() != ' ' &&
           b.find_first_not_of(bchars) == std::string_view::npos;
}

std::string boundary_of(std::string_view content_type_header) {
    auto type = parse_header_value(content_type_header);
    if (type.value != "multipart/form-data")
        throw app_error("invalid_params", "expected a multipart/form-data body");
    auto* boundary = type.param("boundary");
    if (!boundary) malformed("the Content-Type has no boundary");
    if (!valid_boundary(*boundary)) malformed("the boundary is not 1 to 70 allowed characters");
    return *boundary;
}

// The header lines of one part, unfolded, as (lowercased name, value).
std::vector<std::pair<std::string, std::string_view>> header_lines(std::string_view block) {
    std::vector<std::pair<std::string, std::string_view>> out;
    std::size_t pos = 0;
    while (pos < block.size()) {
        auto end = std::min(block.find("\r\n", pos), block.size());
        std::string_view line = block.substr(pos, end - pos);
        pos = end + 2;
        if (!line.empty() && is_space(line.front())) {
            // An obsolete folded continuation: the value goes on (RFC 5322 §2.2.3).
            if (out.empty()) malformed("a part's headers start with a continuation line");
            auto& value = out.back().second;
            value = std::string_view(value.data(), line.data() + line.size() - value.data());
            continue;
        }
        auto colon = line.find(':');
        if (colon == std::string_view::npos || colon == 0 ||
            line.substr(0, colon).find_first_of(" \t") != std::string_view::npos)
            malformed("a part has a header line that is not `Name: value`");
        out.emplace_back(ascii_lower(line.substr(0, colon)), line.substr(colon + 1));
    }
    return out;
}

// Fills `part` from its header block.
void read_part_headers(std::string_view block, form_part& part) {
    bool disposed = false;
    for (auto& [name, raw_value] : header_lines(block)) {
        // A folded value keeps its CRLF; as separators they are spaces.
        std::string value(trim_spaces(raw_value));
        std::replace_if(
            value.begin(), value.end(), [](char c) { return c == '\r' || c == '\n'; }, ' ');
        if (name == "content-disposition") {
            if (disposed) malformed("a part has two Content-Disposition headers");
            disposed = true;
            auto disposition = parse_header_value(value);
            if (disposition.value != "form-data")
                malformed("a part's Content-Disposition is not form-data");
            auto* field = disposition.param("name");
            if (!field || field->empty()) malformed("a part's Content-Disposition has no name");
            part.name = *field;
            std::optional<std::string> filename;
            if (auto* extended = disposition.param("filename*"))
                filename = decode_ext_value(*extended);
            if (!filename)
                if (auto* plain = disposition.param("filename")) filename = *plain;
            part.filename = without_directory(filename.value_or(""));
        } else if (name == "content-type") {
            part.content_type = value;
        }
    }
    if (!disposed) malformed("a part has no Content-Disposition header");
}

}  // namespace

std::vector<form_part> parse_multipart(std::string_view content_type_header,
                                       std::string_view body) {
    const std::string dash_boundary = "--" + boundary_of(content_type_header);
    // A delimiter is a boundary at the start of a line: its CRLF belongs to it, not to the part.
    const std::string delimiter = "\r\n" + dash_boundary;
    const std::boyer_moore_horspool_searcher find_delimiter(delimiter.begin(), delimiter.end());
    auto next_delimiter = [&](std::size_t from) -> std::size_t {
        auto at = std::search(body.begin() + static_cast<std::ptrdiff_t>(from), body.end(),
                              find_delimiter);
        return at == body.end() ? std::string_view::npos
                                : static_cast<std::size_t>(at - body.begin());
    };

    std::size_t pos;
    if (body.starts_with(dash_boundary)) {
        pos = dash_boundary.size();
    } else {
        auto first = next_delimiter(0);
        if (first == std::string_view::npos) malformed("the body has no boundary line");
        pos = first + delimiter.size();
    }

    std::vector<form_part> parts;
    for (;;) {
        if (body.substr(pos).starts_with("--")) break;  // the close delimiter: the epilogue follows
        while (pos < body.size() && is_space(body[pos])) ++pos;  // transport padding
        if (!body.substr(pos).starts_with("\r\n")) {
            if (pos >= body.size()) malformed("the body ends without the closing boundary");
            malformed("a boundary line has other text after the boundary");
        }
        pos += 2;
        if (pos == body.size()) malformed("the body ends without the closing boundary");
        if (parts.size() == max_form_parts)
            malformed("more than " + std::to_string(max_form_parts) + " parts");

        std::string_view headers;
        std::size_t body_start = pos + 2;  // a part without headers, refused for lack of a name
        if (!body.substr(pos).starts_with("\r\n")) {
            auto window = body.substr(pos, max_part_header_bytes + 4);
            auto end = window.find("\r\n\r\n");
            if (end == std::string_view::npos) {
                if (window.size() > max_part_header_bytes)
                    malformed("a part's headers are longer than " +
                              std::to_string(max_part_header_bytes) + " bytes");
                malformed("a part's headers never end");
            }
            headers = window.substr(0, end);
            body_start = pos + end + 4;
        }
        form_part part;
        read_part_headers(headers, part);

        auto end = next_delimiter(body_start);
        if (end == std::string_view::npos) malformed("the body ends without the closing boundary");
        part.body = body.substr(body_start, end - body_start);
        parts.push_back(std::move(part));
        pos = end + delimiter.size();
    }
    return parts;
}

}  // namespace chatd::files
