#include <catch2/catch.hpp>
#include <sstream>

#include "config/config.hpp"
#include "config/ini_file.hpp"

using namespace chatd;

namespace {

std::vector<ini_setting> read(const std::string& text) {
    std::istringstream in(text);
    return read_ini(in, "c.conf");
}

std::string error_of(const std::string& text) {
    try {
        read(text);
    } catch (const config_error& e) {
        return e.what();
    }
    return "";
}

}  // namespace

TEST_CASE("the INI reader keeps each setting's line and section") {
    auto settings = read("# comment\nlisten = 127.0.0.1:1 # after a value\n\n[upstream]\n  max_attempts=2\nproxy =\n");
    REQUIRE(settings.size() == 3);
    CHECK(settings[0].key == "listen");
    CHECK(settings[0].value == "127.0.0.1:1");
    CHECK(settings[0].line == 2);
    CHECK(settings[1].key == "upstream.max_attempts");
    CHECK(settings[1].line == 5);
    CHECK(settings[2].key == "upstream.proxy");
    CHECK(settings[2].value.empty());
}

TEST_CASE("the INI reader names the line of every malformed one") {
    CHECK(error_of("listen = x\n[upstream\nmax_attempts = 2\n") ==
          "c.conf:2: section line '[upstream' has no closing ']'");
    CHECK(error_of("[upstream]\nmax_attempts = 2\n\nmax_attempts = 3\n") ==
          "c.conf:4: key 'upstream.max_attempts' is set twice (first on line 2)");
    CHECK(error_of("listen = x\njustaword\n").starts_with("c.conf:2: expected 'key = value'"));
    CHECK(error_of("= value\n") == "c.conf:1: no key before '='");
    // The same name in two sections is two keys.
    CHECK(error_of("[a]\nx = 1\n[b]\nx = 2\n").empty());
}
