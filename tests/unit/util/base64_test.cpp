#include <catch2/catch.hpp>

#include "util/base64.hpp"

using namespace chatd;

TEST_CASE("base64 decoding refuses what is not base64") {
    CHECK(base64_decode("aGVsbG8=") == std::optional<std::string>("hello"));
    CHECK(base64_decode("aGk=") == std::optional<std::string>("hi"));
    CHECK(base64_decode("") == std::optional<std::string>(""));
    CHECK_FALSE(base64_decode("aGVsbG8"));    // length not a multiple of 4
    CHECK_FALSE(base64_decode("aGV*bG8="));   // not in the alphabet
    CHECK_FALSE(base64_decode("aG=sbG8="));   // padding in the middle
    CHECK(base64_encode("hello") == "aGVsbG8=");
}
