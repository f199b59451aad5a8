#include "upstream/url.hpp"

#include <cctype>
#include <charconv>

#include "util/text.hpp"

namespace chatd::upstream {
namespace {

bool is_ipv6_literal(const std::string& host) {
    return host.find(':') != std::string::npos;
}

std::string bracketed(const std::string& host) {
    return is_ipv6_literal(host) ? "[" + host + "]" : host;
}

std::optional<std::uint16_t> parse_port(std::string_view s) {
    if (s.empty() || s.size() > 5) return std::nullopt;
    unsigned value = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), value);
    if (ec != std::errc{} || end != s.data() + s.size() || value == 0 || value > 65535)
        return std::nullopt;
    return static_cast<std::uint16_t>(value);
}

// Host and optional port from the authority part; the default port is filled in by the caller.
bool parse_authority(std::string_view auth, url& out) {
    if (auth.empty() || auth.find('@') != std::string_view::npos) return false;
    std::string_view host;
    std::string_view rest;
    if (auth.front() == '[') {
        auto close = auth.find(']');
        if (close == std::string_view::npos || close == 1) return false;
        host = auth.substr(1, close - 1);
        if (host.find(':') == std::string_view::npos) return false;
        rest = auth.substr(close + 1);
        if (!rest.empty() && rest.front() != ':') return false;
    } else {
        auto colon = auth.find(':');
        host = auth.substr(0, colon);
        if (colon != std::string_view::npos) rest = auth.substr(colon);
        if (host.empty()) return false;
    }
    for (unsigned char c : host) {
        if (std::isspace(c) || c == '/' || c == '[' || c == ']') return false;
    }
    if (!rest.empty()) {
        auto port = parse_port(rest.substr(1));
        if (!port) return false;
        out.port = *port;
    }
    out.host = ascii_lower(host);
    return true;
}

}  // namespace

std::string url::host_header() const {
    std::uint16_t standard = tls() ? 443 : 80;
    if (port == standard) return bracketed(host);
    return bracketed(host) + ":" + std::to_string(port);
}

std::string url::authority() const {
    return bracketed(host) + ":" + std::to_string(port);
}

std::optional<url> parse_url(std::string_view text) {
    auto sep = text.find("://");
    if (sep == std::string_view::npos) return std::nullopt;
    url out;
    out.scheme = ascii_lower(text.substr(0, sep));
    if (out.scheme != "http" && out.scheme != "https") return std::nullopt;
    text.remove_prefix(sep + 3);
    if (auto hash = text.find('#'); hash != std::string_view::npos) text = text.substr(0, hash);

    auto path_start = text.find_first_of("/?");
    if (!parse_authority(text.substr(0, path_start), out)) return std::nullopt;
    if (out.port == 0) out.port = out.tls() ? 443 : 80;

    std::string_view path =
        path_start == std::string_view::npos ? std::string_view{} : text.substr(path_start);
    for (unsigned char c : path) {
        if (c <= 0x20 || c == 0x7f) return std::nullopt;
    }
    out.target = path.empty() || path.front() != '/' ? "/" + std::string(path) : std::string(path);
    return out;
}

std::optional<url> parse_proxy(std::string_view text) {
    if (text.find("://") == std::string_view::npos) return parse_url("http://" + std::string(text));
    auto parsed = parse_url(text);
    if (!parsed || parsed->scheme != "http") return std::nullopt;
    return parsed;
}

std::string join_target(std::string_view base, std::string_view suffix) {
    std::string_view query;
    if (auto q = base.find('?'); q != std::string_view::npos) {
        query = base.substr(q);
        base = base.substr(0, q);
    }
    while (!base.empty() && base.back() == '/') base.remove_suffix(1);
    while (!suffix.empty() && suffix.front() == '/') suffix.remove_prefix(1);
    std::string out(base);
    out += '/';
    out += suffix;
    out += query;
    return out;
}

}  // namespace chatd::upstream
