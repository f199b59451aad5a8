// Personal API keys: their format, hash and masked form, and the bearer header they come in.
#include <catch2/catch.hpp>

#include <set>

#include "auth/api_keys.hpp"

using namespace chatd::auth;

TEST_CASE("an API key is sk-chatd- and 40 base62 characters, different every time") {
    std::set<std::string> seen;
    for (int i = 0; i < 50; ++i) {
        auto key = new_api_key();
        CHECK(key.size() == 9 + 40);
        CHECK(key.starts_with("sk-chatd-"));
        CHECK(looks_like_api_key(key));
        seen.insert(key);
    }
    CHECK(seen.size() == 50);
    CHECK_FALSE(looks_like_api_key("sk-chatd-short"));
    CHECK_FALSE(looks_like_api_key("sk-other-" + std::string(40, 'a')));
    CHECK_FALSE(looks_like_api_key("sk-chatd-" + std::string(39, 'a') + "-"));
    CHECK(looks_like_api_key("sk-chatd-" + std::string(40, 'Z')));
}

TEST_CASE("an API key is stored as its SHA-256 and shown masked") {
    CHECK(api_key_hash("abc") == "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
    std::string key = "sk-chatd-ab12" + std::string(32, 'x') + "wxyz";
    auto [head, tail] = api_key_ends(key);
    CHECK(head == "sk-chatd-ab12");
    CHECK(tail == "wxyz");
    CHECK(masked_api_key(head, tail) == "sk-chatd-ab12…wxyz");
}

TEST_CASE("the bearer token of an Authorization header") {
    CHECK(bearer_token("Bearer sk-chatd-abc") == "sk-chatd-abc");
    CHECK(bearer_token("bearer   sk-chatd-abc ") == "sk-chatd-abc");
    CHECK(bearer_token("Basic dXNlcjpwYXNz").empty());
    CHECK(bearer_token("Bearer").empty());
    CHECK(bearer_token("").empty());
}
