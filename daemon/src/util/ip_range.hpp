#pragma once
// Address ranges in CIDR notation ("127.0.0.1/32", "::1/128", "10.0.0.0/8") and the client
// address behind trusted reverse proxies.
#include <boost/asio/ip/address.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd {

struct ip_range {
    boost::asio::ip::address network;
    unsigned prefix = 0;

    bool contains(const boost::asio::ip::address& a) const;
};

// "a/n, b/m" (commas or blanks between; a bare address is one host). Throws
// std::invalid_argument naming the entry that does not parse.
std::vector<ip_range> parse_ip_ranges(std::string_view list);

// An address as a client or proxy writes it: IPv4, IPv6, "[v6]", "[v6]:port" or "v4:port".
// IPv4-mapped IPv6 addresses become plain IPv4.
std::optional<boost::asio::ip::address> parse_forwarded_address(std::string_view text);

// The client's address. `peer` is the connected socket's address; only a trusted peer's
// X-Forwarded-For counts, read from the right: the first address that is not a trusted proxy is
// the client (what the left of the header says is the client's own claim). X-Real-IP is used
// only when a trusted peer sent no X-Forwarded-For.
std::string client_address(const std::string& peer, std::string_view forwarded_for, std::string_view real_ip,
                           const std::vector<ip_range>& trusted);

}  // namespace chatd
