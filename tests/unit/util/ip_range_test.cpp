#include <catch2/catch.hpp>

#include <filesystem>
#include <unistd.h>

#include "util/file_lock.hpp"
#include "util/ip_range.hpp"

using namespace chatd;

namespace {

boost::asio::ip::address addr(const char* s) { return boost::asio::ip::make_address(s); }

const auto loopback = parse_ip_ranges("127.0.0.1/32, ::1/128");

}  // namespace

TEST_CASE("CIDR ranges parse and match") {
    auto r = parse_ip_ranges("10.0.0.0/8,192.168.1.7 fd00::/8\t::1/128");
    REQUIRE(r.size() == 4);
    CHECK(r[0].contains(addr("10.255.3.4")));
    CHECK_FALSE(r[0].contains(addr("11.0.0.1")));
    CHECK(r[1].contains(addr("192.168.1.7")));
    CHECK_FALSE(r[1].contains(addr("192.168.1.8")));
    CHECK(r[2].contains(addr("fd12::1")));
    CHECK_FALSE(r[2].contains(addr("fe80::1")));
    CHECK_FALSE(r[0].contains(addr("::ffff:10.0.0.1")));  // callers unmap first
    CHECK(parse_ip_ranges("").empty());
    CHECK(parse_ip_ranges("0.0.0.0/0")[0].contains(addr("8.8.8.8")));
    CHECK(parse_ip_ranges("10.1.2.3/20")[0].contains(addr("10.1.15.255")));
    CHECK_FALSE(parse_ip_ranges("10.1.2.3/20")[0].contains(addr("10.1.16.0")));
    CHECK_THROWS_AS(parse_ip_ranges("10.0.0.0/33"), std::invalid_argument);
    CHECK_THROWS_AS(parse_ip_ranges("10.0.0.0/"), std::invalid_argument);
    CHECK_THROWS_AS(parse_ip_ranges("localhost"), std::invalid_argument);
    CHECK_THROWS_AS(parse_ip_ranges("::1/129"), std::invalid_argument);
}

TEST_CASE("forwarded addresses in the forms proxies write") {
    CHECK(parse_forwarded_address(" 203.0.113.9 ")->to_string() == "203.0.113.9");
    CHECK(parse_forwarded_address("203.0.113.9:4711")->to_string() == "203.0.113.9");
    CHECK(parse_forwarded_address("[2001:db8::1]:443")->to_string() == "2001:db8::1");
    CHECK(parse_forwarded_address("[2001:db8::1]")->to_string() == "2001:db8::1");
    CHECK(parse_forwarded_address("::ffff:203.0.113.9")->to_string() == "203.0.113.9");
    CHECK_FALSE(parse_forwarded_address("unknown"));
    CHECK_FALSE(parse_forwarded_address("[10.0.0.1]"));
    CHECK_FALSE(parse_forwarded_address("1.2.3.4:5:6"));
}

TEST_CASE("the client is the right-most untrusted address a trusted proxy reports") {
    // A client behind our proxy cannot choose its address by writing the header itself.
    CHECK(client_address("127.0.0.1", "6.6.6.6, 203.0.113.9", "", loopback) == "203.0.113.9");
    CHECK(client_address("127.0.0.1", "203.0.113.9", "6.6.6.6", loopback) == "203.0.113.9");
    CHECK(client_address("127.0.0.1", "6.6.6.6", "", loopback) == "6.6.6.6");  // written by the proxy
    // A chain of trusted proxies is walked past.
    auto chain = parse_ip_ranges("127.0.0.1/32, 10.0.0.0/8");
    CHECK(client_address("127.0.0.1", "6.6.6.6, 198.51.100.2, 10.0.0.5", "", chain) == "198.51.100.2");
    CHECK(client_address("127.0.0.1", "10.0.0.9, 10.0.0.5", "", chain) == "10.0.0.9");
    // Repeated headers arrive joined; garbage stops the walk at the nearest proxy's view.
    CHECK(client_address("127.0.0.1", "garbage, 10.0.0.5", "", chain) == "10.0.0.5");
    CHECK(client_address("127.0.0.1", "", "203.0.113.7", loopback) == "203.0.113.7");
    CHECK(client_address("127.0.0.1", "", "nonsense", loopback) == "127.0.0.1");
    CHECK(client_address("127.0.0.1", "", "", loopback) == "127.0.0.1");
    // From an untrusted peer both headers are the client's own words.
    CHECK(client_address("127.0.0.2", "203.0.113.9", "203.0.113.8", loopback) == "127.0.0.2");
    CHECK(client_address("198.51.100.1", "203.0.113.9", "", loopback) == "198.51.100.1");
    CHECK(client_address("127.0.0.1", "203.0.113.9", "", {}) == "127.0.0.1");
    CHECK(client_address("::1", "2001:db8::5", "", loopback) == "2001:db8::5");
}

TEST_CASE("a file lock refuses a second holder until the first lets go") {
    auto dir = std::filesystem::temp_directory_path() / ("chatd-lock-" + std::to_string(::getpid()));
    std::filesystem::create_directories(dir);
    auto path = (dir / "chatd.lock").string();
    {
        auto first = file_lock::try_acquire(path);
        REQUIRE(first);
        CHECK(file_lock::holder_pid(path) == ::getpid());
        // flock locks belong to the open file: a second open (as another process makes) is refused.
        CHECK_FALSE(file_lock::try_acquire(path));
        auto moved = std::move(*first);
        CHECK_FALSE(file_lock::try_acquire(path));
    }
    CHECK(file_lock::try_acquire(path));
    std::filesystem::remove_all(dir);
}
