#include <catch2/catch.hpp>

#include "config/settings.hpp"

using namespace chatd;

TEST_CASE("a link's origin is what a CSP may name, and nothing else") {
    CHECK(web_origin("https://cdn.example.com/a/logo.png") == "https://cdn.example.com");
    CHECK(web_origin("http://127.0.0.1:9000/logo.png?v=2") == "http://127.0.0.1:9000");
    CHECK(web_origin("https://example.com") == "https://example.com");
    CHECK(web_origin("/logo.png").empty());
    CHECK(web_origin("https://").empty());
    CHECK(web_origin("https://a b/").empty());
    CHECK(web_origin("https://x.example;script-src *").empty());
    CHECK(web_origin("https://user@x.example/").empty());
    CHECK(web_origin("https://x.example:80:80/").empty());
    CHECK(web_origin("https://x.example:http/").empty());
    CHECK(web_origin("javascript:alert(1)").empty());
}

TEST_CASE("brand and shop links are checked when set") {
    config c;
    settings s(c);
    CHECK(s.validate("site.logo_url", " https://cdn.example.com/logo.png ") == "https://cdn.example.com/logo.png");
    CHECK(s.validate("site.logo_url", "/brand/logo.svg") == "/brand/logo.svg");
    CHECK(s.validate("site.shop_url", "").empty());
    for (const char* bad : {"//evil.example/x", "logo.png", "https://x.example/\"><script>", "data:image/png;base64,AA",
                            "https://x.example/a b"})
        CHECK_THROWS_AS(s.validate("site.logo_url", bad), std::invalid_argument);
    CHECK(s.get("site.tagline").empty());
}
