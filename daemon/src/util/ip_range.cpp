#include "util/ip_range.hpp"

#include <charconv>
#include <stdexcept>

#include "util/text.hpp"

namespace chatd {

namespace ip = boost::asio::ip;

namespace {

ip::address unmapped(ip::address a) {
    if (a.is_v6() && a.to_v6().is_v4_mapped()) return ip::make_address_v4(ip::v4_mapped, a.to_v6());
    return a;
}

std::optional<ip::address> parse_plain(std::string_view text) {
    boost::system::error_code ec;
    auto a = ip::make_address(std::string(text), ec);
    if (ec) return std::nullopt;
    return unmapped(a);
}

bool trusted_by(const ip::address& a, const std::vector<ip_range>& trusted) {
    for (auto& r : trusted)
        if (r.contains(a)) return true;
    return false;
}

}  // namespace

bool ip_range::contains(const ip::address& a) const {
    if (a.is_v4() != network.is_v4()) return false;
    auto match = [&](const auto& x, const auto& y) {
        unsigned bits = prefix;
        for (std::size_t i = 0; i < x.size() && bits > 0; ++i) {
            unsigned n = std::min(bits, 8u);
            auto mask = static_cast<unsigned char>(0xff << (8 - n));
            if ((x[i] & mask) != (y[i] & mask)) return false;
            bits -= n;
        }
        return true;
    };
    if (a.is_v4()) return match(a.to_v4().to_bytes(), network.to_v4().to_bytes());
    return match(a.to_v6().to_bytes(), network.to_v6().to_bytes());
}

std::vector<ip_range> parse_ip_ranges(std::string_view list) {
    std::vector<ip_range> out;
    std::size_t pos = 0;
    while (pos < list.size()) {
        auto end = list.find_first_of(", \t", pos);
        if (end == std::string_view::npos) end = list.size();
        auto entry = list.substr(pos, end - pos);
        pos = end + 1;
        if (entry.empty()) continue;
        auto slash = entry.find('/');
        auto addr = parse_plain(entry.substr(0, slash));
        if (!addr) throw std::invalid_argument("'" + std::string(entry) + "' is not an address or CIDR range");
        unsigned max = addr->is_v4() ? 32 : 128, prefix = max;
        if (slash != std::string_view::npos) {
            auto bits = entry.substr(slash + 1);
            auto [p, ec] = std::from_chars(bits.data(), bits.data() + bits.size(), prefix);
            if (ec != std::errc() || p != bits.data() + bits.size() || bits.empty() || prefix > max)
                throw std::invalid_argument("'" + std::string(entry) + "' has an invalid prefix length");
        }
        out.push_back({*addr, prefix});
    }
    return out;
}

std::optional<ip::address> parse_forwarded_address(std::string_view raw) {
    auto trimmed = trim(raw);
    std::string_view text = trimmed;
    if (auto a = parse_plain(text)) return a;
    if (text.starts_with('[')) {
        auto close = text.find(']');
        if (close == std::string_view::npos) return std::nullopt;
        auto rest = text.substr(close + 1);
        if (!rest.empty() && !rest.starts_with(':')) return std::nullopt;
        auto a = parse_plain(text.substr(1, close - 1));
        if (a && a->is_v6()) return a;
        return std::nullopt;
    }
    auto colon = text.find(':');
    if (colon != std::string_view::npos && text.find(':', colon + 1) == std::string_view::npos) {
        auto a = parse_plain(text.substr(0, colon));
        if (a && a->is_v4()) return a;
    }
    return std::nullopt;
}

std::string client_address(const std::string& peer, std::string_view forwarded_for, std::string_view real_ip,
                           const std::vector<ip_range>& trusted) {
    auto peer_addr = parse_plain(peer);
    if (!peer_addr || !trusted_by(*peer_addr, trusted)) return peer;
    if (trim(forwarded_for).empty()) {
        auto real = parse_forwarded_address(real_ip);
        return real ? real->to_string() : peer;
    }
    // Each proxy appends the address it saw; walk back past our own proxies. An entry that does
    // not parse was written by the client, so the nearest proxy's view is the best we know.
    std::string client = peer_addr->to_string();
    std::string_view rest = forwarded_for;
    while (!rest.empty()) {
        auto comma = rest.rfind(',');
        auto entry = comma == std::string_view::npos ? rest : rest.substr(comma + 1);
        rest = comma == std::string_view::npos ? std::string_view() : rest.substr(0, comma);
        auto a = parse_forwarded_address(entry);
        if (!a) break;
        client = a->to_string();
        if (!trusted_by(*a, trusted)) break;
    }
    return client;
}

}  // namespace chatd
