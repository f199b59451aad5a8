#include <boost/json.hpp>
#include <catch2/catch.hpp>

#include "upstream/upstream_client.hpp"

using namespace chatd::upstream;
namespace json = boost::json;

TEST_CASE("the chat completion body speaks OpenAI's request format") {
    chat_request r{"https://x/v1", "sk-secret", "deepseek-chat", {{"system", "be brief", {}}, {"user", "你好 \"q\"", {}}}, {}};
    auto body = json::parse(chat_completion_body(r)).as_object();
    CHECK(body.at("model") == "deepseek-chat");
    CHECK(body.at("stream") == true);
    CHECK(body.at("stream_options") == json::object{{"include_usage", true}});
    auto& messages = body.at("messages").as_array();
    REQUIRE(messages.size() == 2);
    CHECK(messages[0] == json::object{{"role", "system"}, {"content", "be brief"}});
    CHECK(messages[1].at("content") == "你好 \"q\"");
    // The key travels in a header only.
    CHECK(chat_completion_body(r).find("sk-secret") == std::string::npos);
    r.options.include_usage = false;
    CHECK_FALSE(json::parse(chat_completion_body(r)).as_object().contains("stream_options"));
}

TEST_CASE("the chat completion body carries max_tokens and images as content parts") {
    chat_request r{"https://x/v1", "k", "vl", {{"user", "what is this?", {"data:image/png;base64,iVBO"}}}, {}};
    r.options.max_tokens = 512;
    auto body = json::parse(chat_completion_body(r)).as_object();
    CHECK(body.at("max_tokens") == 512);
    auto& content = body.at("messages").as_array()[0].at("content").as_array();
    REQUIRE(content.size() == 2);
    CHECK(content[0] == json::object{{"type", "text"}, {"text", "what is this?"}});
    CHECK(content[1] == json::object{{"type", "image_url"},
                                     {"image_url", json::object{{"url", "data:image/png;base64,iVBO"}}}});
    r.options.max_tokens = 0;
    CHECK_FALSE(json::parse(chat_completion_body(r)).as_object().contains("max_tokens"));
}
