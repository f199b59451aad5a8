#include <catch2/catch.hpp>
#include <limits>
#include <string>

#include "upstream/error_reply.hpp"

using namespace chatd::upstream;

namespace {

outcome from_body(std::string_view body, bool expect_error = true) {
    outcome out;
    CHECK(take_error_body(body, out) == expect_error);
    return out;
}

}  // namespace

TEST_CASE("upstream error replies: the OpenAI error object", "[upstream][error_reply]") {
    auto o = from_body(
        R"({"error":{"message":"Incorrect API key provided","type":"invalid_request_error",)"
        R"("param":null,"code":"invalid_api_key"}})");
    CHECK(o.error_message == "Incorrect API key provided");
    CHECK(o.error_type == "invalid_request_error");
    CHECK(o.error_code == "invalid_api_key");

    SECTION("a numeric code is rendered as text") {
        auto n = from_body(R"({"error":{"message":"Rate limit reached","code":429}})");
        CHECK(n.error_code == "429");
        CHECK(n.error_type.empty());
    }
    SECTION("null fields stay empty") {
        auto n = from_body(R"({"error":{"message":"model not found","type":null,"code":null}})");
        CHECK(n.error_message == "model not found");
        CHECK(n.error_type.empty());
        CHECK(n.error_code.empty());
    }
    SECTION("a non-string message is kept as JSON") {
        CHECK(from_body(R"({"error":{"message":["a","b"]}})").error_message == R"(["a","b"])");
    }
    SECTION("an error without a message still counts as an error body") {
        auto n = from_body(R"({"error":{"type":"server_error"}})");
        CHECK(n.error_message.empty());
        CHECK(n.error_type == "server_error");
    }
}

TEST_CASE("upstream error replies: a bare string in place of the object",
          "[upstream][error_reply]") {
    auto o = from_body(R"({"error":"upstream overloaded"})");
    CHECK(o.error_message == "upstream overloaded");
    CHECK(o.error_code.empty());
    CHECK(o.error_type.empty());
}

TEST_CASE("upstream error replies: bodies that are not error bodies", "[upstream][error_reply]") {
    for (std::string_view body : {"", "upstream broke", "<html>502</html>", "[1,2]", R"("error")",
                                  R"({"data":[]})", R"({"error":null})", R"({"error":{)"}) {
        INFO(body);
        auto o = from_body(body, false);
        CHECK(o.error_message.empty());
    }
    // Present but neither an object nor a string: an error body with nothing to take.
    auto o = from_body(R"({"error":42})");
    CHECK(o.error_message.empty());
    CHECK(o.error_code.empty());
}

TEST_CASE("upstream error replies: Retry-After in seconds", "[upstream][error_reply]") {
    CHECK(parse_retry_after("7") == 7);
    CHECK(parse_retry_after("0") == 0);
    CHECK(parse_retry_after(" \t30 ") == 30);
    CHECK(parse_retry_after(std::to_string(std::numeric_limits<int>::max())) ==
          std::numeric_limits<int>::max());

    CHECK_FALSE(parse_retry_after(""));
    CHECK_FALSE(parse_retry_after("   "));
    CHECK_FALSE(parse_retry_after("-1"));
    CHECK_FALSE(parse_retry_after("1.5"));
    CHECK_FALSE(parse_retry_after("7s"));
    CHECK_FALSE(parse_retry_after("99999999999"));
    CHECK_FALSE(parse_retry_after("Wed, 21 Oct 2015 07:28:00 GMT"));
}

TEST_CASE("upstream error replies: excerpts for messages", "[upstream][error_reply]") {
    CHECK(excerpt("short") == "short");
    CHECK(excerpt(std::string(200, 'x')) == std::string(200, 'x'));
    CHECK(excerpt(std::string(201, 'x')) == std::string(200, 'x') + "…");
    CHECK(excerpt("abcdef", 3) == "abc…");
}
