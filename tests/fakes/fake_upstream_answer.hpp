// The answer a plan produces, as the chunks of an SSE stream with the time each is due, or as one
// chat.completion object. No I/O here: the server walks the steps and does the waiting and
// writing, so the wire shapes of every provider can be read (and changed) in one place.
#pragma once

#include "fake_upstream_plan.hpp"
#include "fake_upstream_request.hpp"

#include <cstddef>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::fake {

// How reasoning reaches the client, by provider family.
enum class reasoning_shape {
    none,        // plain answers (`ok`, `echo`, …)
    deepseek,    // delta.reasoning_content, content null (DeepSeek, Qwen, SiliconFlow, Moonshot)
    openrouter,  // delta.reasoning, content "" (OpenRouter)
    think_tags,  // <think>…</think> at the start of content (models served raw: vLLM, Ollama)
};

// One SSE answer as OpenAI shapes it. The event text is built in per-stream buffers that are
// reused for every token, so a stream allocates only while its buffers grow to the largest event.
class answer_script {
public:
    struct step {
        enum class kind { event, dropped, done };
        kind what;
        // When it is due, counted from the first timed step's start; nullopt: at once.
        std::optional<ms> at;
        // For `event`: the bytes of one SSE event, valid until the next call of next().
        std::string_view bytes;
    };

    answer_script(const chat_request& chat, const plan& p, const defaults& d);

    // The next piece of the stream; after `dropped` or `done` there is nothing more.
    step next();

    std::size_t token_count() const { return token_count_; }  // answer tokens
    std::size_t reasoning_count() const { return reasoning_count_; }
    // When the last token is due: how long a non-streaming caller waits.
    ms last_due() const;
    // The whole answer as one chat.completion object, for callers without "stream":true.
    std::string completion_body(const chat_request& chat) const;

private:
    enum class phase { role, badjson, reasoning, think_close, answer, stop, usage, done, over };

    std::string_view token(std::size_t i) const;
    void reasoning_word(std::size_t i, std::string& out) const;  // "think1", " think2", …
    std::size_t reasoning_steps() const;
    void build_reasoning_step(std::size_t k);  // text of step k of the reasoning phase into text_
    std::string answer_text() const;
    std::string reasoning_text() const;
    ms reasoning_due(std::size_t i) const;
    ms answer_due(std::size_t j) const;
    step event(std::string_view choices, std::optional<ms> at);
    step content_event(std::string_view text, std::optional<ms> at);

    const plan& plan_;
    const defaults& defaults_;
    reasoning_shape shape_;
    bool drop_;  // `drop`: the stream ends after `after` answer tokens, without the final chunk
    bool include_usage_;
    bool cut_short_ = false;  // the answer reached the request's max_tokens: finish_reason "length"
    std::size_t prompt_tokens_;
    std::size_t token_count_ = 0;
    std::size_t reasoning_count_ = 0;
    std::vector<std::string> scripted_tokens_;  // `echo` and `demo`: the whole text, in pieces
    phase phase_ = phase::role;
    std::size_t index_ = 0;
    std::string prefix_;
    std::string text_;
    std::string body_;
    std::string event_;
};

}  // namespace chatd::fake
