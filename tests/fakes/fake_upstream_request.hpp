// What the fake reads from a request: the chat body's few fields that shape the answer, and query
// parameters of the test hooks.
#pragma once

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>

namespace chatd::fake {

// Everything the answer needs, decoded once from the request.
struct chat_request {
    std::string model = "gpt-4o-mini";
    bool stream = false;
    bool include_usage = false;
    bool has_stream_options = false;  // the member is there at all, for `nostreamopts`
    std::size_t prompt_tokens = 1;
    std::size_t max_tokens = 0;  // max_tokens or max_completion_tokens; 0: none
    std::string transcript;     // "role: content" lines, for `echo`
    std::string last_question;  // the last user message's text, for `demo`
};

// nullopt when the body is not a JSON object.
std::optional<chat_request> parse_chat(const std::string& body);

// The URL-decoded value of `name` in the target's query; nullopt when it is absent.
std::optional<std::string> query_param(std::string_view target, std::string_view name);

}  // namespace chatd::fake
