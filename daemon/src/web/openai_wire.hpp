#pragma once
// OpenAI's chat-completions wire format for users' own clients (CONTRACT §13), pure: the request
// as chatd takes it, the errors, the chunks and the whole completion; and the reader of chatd's
// own answer events (CONTRACT §6) that the API translates into those chunks.
#include <boost/json.hpp>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <string_view>
#include <vector>

#include "chat/context.hpp"

namespace chatd::web::openai {

// An answer in OpenAI's error shape {"error":{"message","type","param","code"}} with its status.
struct api_error : std::runtime_error {
    api_error(int status, std::string type, std::string code, const std::string& message)
        : std::runtime_error(message), status(status), type(std::move(type)), code(std::move(code)) {}
    int status;
    std::string type, code;
};

std::string error_body(const api_error& e);
// A reason of chatd's (util/reasons.cpp) as the API answers it: 402 insufficient_credits, 429
// limits, 400 bad requests, 503 no_upstream, 403 forbidden, 502 upstream failures.
api_error error_of_reason(std::string_view reason, const std::string& message);

struct chat_request {
    std::string model;
    std::vector<chat::client_message> messages;
    bool stream = false;
    bool include_usage = false;  // stream_options.include_usage
    int max_tokens = 0;          // max_tokens or max_completion_tokens; 0: none
};
// Throws api_error 400 for what chatd cannot take: bad JSON, no messages, a last message that
// is not the user's, unknown roles or content parts. `developer` counts as `system`.
chat_request parse_chat_request(std::string_view body);
// The last user message's text, as the operator's logs show the question.
std::string question_text(const chat_request& r);

// What every chunk and the completion repeat.
struct completion_head {
    std::string id;  // chatcmpl-…
    std::int64_t created = 0;
    std::string model;
};

struct token_usage {
    std::int64_t prompt_tokens = 0, completion_tokens = 0;
};

// "data: <json>\n\n"
std::string sse_data(std::string_view json);
std::string role_chunk(const completion_head& h);
// A delta of the answer, or of its reasoning (as reasoning_content).
std::string text_chunk(const completion_head& h, std::string_view text, bool reasoning);
std::string finish_chunk(const completion_head& h, std::string_view finish_reason);
std::string usage_chunk(const completion_head& h, const token_usage& u);
std::string completion(const completion_head& h, std::string_view content, std::string_view reasoning,
                       std::string_view finish_reason, const token_usage& u);

// One event of an answer's stream: delta, reasoning, done or error, with its data.
struct answer_event {
    std::string name;
    boost::json::object data;
};

// A delta's or reasoning's text; a done event's usage; an error event as the API's error.
std::string_view text_of(const answer_event& e);
token_usage usage_of(const answer_event& done);
// Why the answer ended, as OpenAI says it: the upstream's `length` or `content_filter` passed
// on (the answer was cut short), `stop` otherwise.
std::string_view finish_reason_of(const answer_event& done);
api_error error_of(const answer_event& error);

// Splits what chat_service::follow writes into events; comments (keepalives) are dropped.
class answer_event_reader {
public:
    void feed(std::string_view text);
    // The events complete so far, in order.
    std::vector<answer_event> take();

private:
    std::string pending_;
    std::vector<answer_event> ready_;
};

}  // namespace chatd::web::openai
