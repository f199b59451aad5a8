#include <catch2/catch.hpp>

#include "upstream/url.hpp"

using namespace chatd::upstream;

TEST_CASE("url parsing for upstream base URLs", "[upstream][url]") {
    auto a = parse_url("https://api.openai.com/v1");
    REQUIRE(a);
    CHECK(a->scheme == "https");
    CHECK(a->host == "api.openai.com");
    CHECK(a->port == 443);
    CHECK(a->target == "/v1");
    CHECK(a->host_header() == "api.openai.com");
    CHECK(a->authority() == "api.openai.com:443");

    auto b = parse_url("HTTP://127.0.0.1:9000");
    REQUIRE(b);
    CHECK(b->scheme == "http");
    CHECK(b->port == 9000);
    CHECK(b->target == "/");
    CHECK(b->host_header() == "127.0.0.1:9000");

    auto c = parse_url("https://[::1]:8443/api/v1/?x=1#frag");
    REQUIRE(c);
    CHECK(c->host == "::1");
    CHECK(c->port == 8443);
    CHECK(c->target == "/api/v1/?x=1");
    CHECK(c->host_header() == "[::1]:8443");

    auto d = parse_url("http://[2001:db8::5]/v1");
    REQUIRE(d);
    CHECK(d->port == 80);
    CHECK(d->authority() == "[2001:db8::5]:80");

    for (const char* bad :
         {"", "api.openai.com/v1", "ftp://x/", "https://", "https://:80/", "http://host:0/",
          "http://host:65536/", "http://host:8x/", "http://user:pw@host/", "http://[::1/",
          "http://[]:80/", "http://ho st/", "http://host/a b"}) {
        INFO(bad);
        CHECK_FALSE(parse_url(bad));
    }
}

TEST_CASE("proxy parsing and target joining", "[upstream][url]") {
    auto p = parse_proxy("proxy.lan:3128");
    REQUIRE(p);
    CHECK(p->authority() == "proxy.lan:3128");
    CHECK(parse_proxy("http://10.0.0.1:8080"));
    CHECK_FALSE(parse_proxy("https://10.0.0.1:8080"));
    CHECK_FALSE(parse_proxy("socks5://10.0.0.1:1080"));

    CHECK(join_target("/v1", "chat/completions") == "/v1/chat/completions");
    CHECK(join_target("/v1/", "/chat/completions") == "/v1/chat/completions");
    CHECK(join_target("/", "chat/completions") == "/chat/completions");
    CHECK(join_target("/v1?api-version=2", "chat/completions") ==
          "/v1/chat/completions?api-version=2");
}
