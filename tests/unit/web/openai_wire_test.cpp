// OpenAI's chat-completions wire format as chatd reads and writes it (CONTRACT §13).
#include <catch2/catch.hpp>

#include "chat/generation.hpp"
#include "web/openai_wire.hpp"

using namespace chatd;
using namespace chatd::web::openai;
namespace json = boost::json;

namespace {

int status_of(std::string_view body) {
    try {
        parse_chat_request(body);
    } catch (const api_error& e) {
        CHECK(e.type == "invalid_request_error");
        return e.status;
    }
    return 200;
}

json::object data_of(const std::string& sse) {
    REQUIRE(sse.starts_with("data: "));
    REQUIRE(sse.ends_with("\n\n"));
    return json::parse(sse.substr(6, sse.size() - 8)).as_object();
}

}  // namespace

TEST_CASE("a chat request: messages with text and image parts, stream options, max tokens") {
    auto r = parse_chat_request(R"({"model":"m1","stream":true,"stream_options":{"include_usage":true},
        "max_tokens":100,"temperature":0.2,"messages":[
        {"role":"developer","content":"rules"},
        {"role":"user","content":"q1"},
        {"role":"assistant","content":null},
        {"role":"user","content":[{"type":"text","text":"look"},
                                  {"type":"image_url","image_url":{"url":"data:image/png;base64,AAAA"}}]}]})");
    CHECK(r.model == "m1");
    CHECK(r.stream);
    CHECK(r.include_usage);
    CHECK(r.max_tokens == 100);
    REQUIRE(r.messages.size() == 4);
    CHECK(r.messages[0].role == "system");
    CHECK(r.messages[2].content.empty());
    CHECK(r.messages[3].content == "look");
    CHECK(r.messages[3].image_urls == std::vector<std::string>{"data:image/png;base64,AAAA"});
    CHECK(question_text(r) == "look");
    auto plain = parse_chat_request(R"({"model":"m","messages":[{"role":"user","content":"hi"}],"max_completion_tokens":7})");
    CHECK_FALSE(plain.stream);
    CHECK_FALSE(plain.include_usage);
    CHECK(plain.max_tokens == 7);
}

TEST_CASE("what a chat request cannot be is a 400") {
    CHECK(status_of("{not json") == 400);
    CHECK(status_of(R"([1])") == 400);
    CHECK(status_of(R"({"messages":[{"role":"user","content":"hi"}]})") == 400);
    CHECK(status_of(R"({"model":"m","messages":[]})") == 400);
    CHECK(status_of(R"({"model":"m","messages":[{"role":"assistant","content":"a"}]})") == 400);
    CHECK(status_of(R"({"model":"m","messages":[{"role":"tool","content":"a"}]})") == 400);
    CHECK(status_of(R"({"model":"m","messages":[{"role":"user","content":[{"type":"audio"}]}]})") == 400);
    CHECK(status_of(R"({"model":"m","messages":[{"role":"user","content":""}]})") == 400);
    CHECK(status_of(R"({"model":"m","stream":"yes","messages":[{"role":"user","content":"q"}]})") == 400);
    CHECK(status_of(R"({"model":"m","max_tokens":-1,"messages":[{"role":"user","content":"q"}]})") == 400);
    CHECK(status_of(R"({"model":"m","messages":[{"role":"user","content":"q"}]})") == 200);
}

TEST_CASE("chatd's reasons become OpenAI's errors with their statuses") {
    CHECK(error_of_reason("insufficient_credits", "").status == 402);
    CHECK(error_of_reason("insufficient_credits", "").code == "insufficient_credits");
    CHECK(error_of_reason("too_many_requests", "").status == 429);
    CHECK(error_of_reason("busy", "").code == "rate_limit_exceeded");
    CHECK(error_of_reason("invalid_params", "").status == 400);
    CHECK(error_of_reason("content_blocked", "").status == 400);
    CHECK(error_of_reason("no_upstream", "").status == 503);
    CHECK(error_of_reason("forbidden", "").type == "permission_error");
    CHECK(error_of_reason("upstream_unavailable", "").status == 502);
    auto body = json::parse(error_body(error_of_reason("no_upstream", "none left"))).as_object();
    CHECK(body.at("error").at("message") == "none left");
    CHECK(body.at("error").at("type") == "server_error");
    CHECK(body.at("error").at("code") == "no_upstream");
    CHECK(body.at("error").at("param").is_null());
}

TEST_CASE("chunks and the whole completion in OpenAI's shapes") {
    completion_head head{"chatcmpl-7", 1700000000, "m1"};
    auto role = data_of(role_chunk(head));
    CHECK(role.at("object") == "chat.completion.chunk");
    CHECK(role.at("id") == "chatcmpl-7");
    CHECK(role.at("created") == 1700000000);
    CHECK(role.at("choices").at(0).at("delta").at("role") == "assistant");
    CHECK(role.at("choices").at(0).at("finish_reason").is_null());
    auto text = data_of(text_chunk(head, "héllo", false));
    CHECK(text.at("choices").at(0).at("delta").at("content") == "héllo");
    auto thought = data_of(text_chunk(head, "hmm", true));
    CHECK(thought.at("choices").at(0).at("delta").at("reasoning_content") == "hmm");
    CHECK_FALSE(thought.at("choices").at(0).at("delta").as_object().contains("content"));
    auto finish = data_of(finish_chunk(head, "stop"));
    CHECK(finish.at("choices").at(0).at("finish_reason") == "stop");
    CHECK(finish.at("choices").at(0).at("delta").as_object().empty());
    auto usage = data_of(usage_chunk(head, {30, 12}));
    CHECK(usage.at("choices").as_array().empty());
    CHECK(usage.at("usage").at("total_tokens") == 42);
    CHECK(sse_data("[DONE]") == "data: [DONE]\n\n");

    auto whole = json::parse(completion(head, "answer", "", "stop", {3, 4})).as_object();
    CHECK(whole.at("object") == "chat.completion");
    auto message = whole.at("choices").at(0).at("message").as_object();
    CHECK(message.at("content") == "answer");
    CHECK_FALSE(message.contains("reasoning_content"));
    CHECK(whole.at("usage").at("prompt_tokens") == 3);
    auto reasoned = json::parse(completion(head, "a", "why", "stop", {})).as_object();
    CHECK(reasoned.at("choices").at(0).at("message").at("reasoning_content") == "why");
}

TEST_CASE("the answer's own events are read back, split anywhere, keepalives dropped") {
    std::string stream = chat::reasoning_event(3, "hmm") + ": keepalive\n\n" + chat::delta_event(8, "hello") +
                         chat::error_event(9, "upstream_unavailable", "gone", true);
    answer_event_reader reader;
    // Fed in pieces of 5 bytes: events come out whole, in order.
    for (std::size_t i = 0; i < stream.size(); i += 5) reader.feed(std::string_view(stream).substr(i, 5));
    auto events = reader.take();
    REQUIRE(events.size() == 3);
    CHECK(events[0].name == "reasoning");
    CHECK(text_of(events[0]) == "hmm");
    CHECK(text_of(events[1]) == "hello");
    CHECK(events[2].name == "error");
    auto err = error_of(events[2]);
    CHECK(err.status == 502);
    CHECK(std::string(err.what()) == "gone");
    CHECK(reader.take().empty());

    chat::done_summary d;
    d.message_id = 5;
    d.status = "done";
    d.prompt_tokens = 11;
    d.completion_tokens = 22;
    reader.feed(chat::done_event(10, d));
    auto done = reader.take();
    REQUIRE(done.size() == 1);
    CHECK(done[0].name == "done");
    auto u = usage_of(done[0]);
    CHECK(u.prompt_tokens == 11);
    CHECK(u.completion_tokens == 22);
}
