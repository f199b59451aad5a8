#include "fake_upstream_answer.hpp"

#include "fake_upstream_demo.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <atomic>
#include <cstdint>
#include <cstdio>
#include <ctime>

namespace chatd::fake {

namespace json = boost::json;

namespace {

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

// Splits text into pieces of at most `limit` bytes, never cutting a UTF-8 sequence.
std::vector<std::string> split_utf8(std::string_view text, std::size_t limit) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto cut = std::min(limit, text.size());
        while (cut < text.size() && cut > 0 &&
               (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;
        if (cut == 0) cut = std::min(limit, text.size());
        out.emplace_back(text.substr(0, cut));
        text.remove_prefix(cut);
    }
    return out;
}

std::string completion_id() {
    static std::atomic<std::uint64_t> counter{0};
    auto n = counter.fetch_add(1) + static_cast<std::uint64_t>(std::time(nullptr)) * 1000003u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "chatcmpl-%016llx", static_cast<unsigned long long>(n));
    return buf;
}

reasoning_shape shape_of(const std::string& behaviour) {
    if (behaviour == "reasoning") return reasoning_shape::deepseek;
    if (behaviour == "reasoning_or") return reasoning_shape::openrouter;
    if (behaviour == "think") return reasoning_shape::think_tags;
    return reasoning_shape::none;
}

// The <think> tags are cut across chunks on purpose: clients must hold a partial tag back.
constexpr std::string_view open_head = "<thi", open_tail = "nk>\n";
constexpr std::string_view close_head = "\n</th", close_tail = "ink>\n\n";

// The fixed chunks' "choices", by shape. DeepSeek opens with content null and an empty
// reasoning_content and closes with both; OpenRouter repeats the role in every delta.
constexpr std::string_view role_chunk =
    R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})";
constexpr std::string_view role_chunk_deepseek =
    R"("choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""},)"
    R"("finish_reason":null}]})";
constexpr std::string_view stop_chunk =
    R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})";
constexpr std::string_view stop_chunk_deepseek =
    R"("choices":[{"index":0,"delta":{"content":"","reasoning_content":null},)"
    R"("finish_reason":"stop"}]})";
constexpr std::string_view stop_chunk_openrouter =
    R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":"stop"}]})";
constexpr std::string_view reasoning_head_deepseek =
    R"("choices":[{"index":0,"delta":{"content":null,"reasoning_content":)";
constexpr std::string_view reasoning_head_openrouter =
    R"("choices":[{"index":0,"delta":{"role":"assistant","content":"","reasoning":)";

}  // namespace

answer_script::answer_script(const chat_request& chat, const plan& p, const defaults& d)
    : plan_(p), defaults_(d), shape_(shape_of(p.behaviour)), drop_(p.behaviour == "drop"),
      include_usage_(chat.include_usage), prompt_tokens_(chat.prompt_tokens) {
    prefix_ = "{\"id\":\"" + completion_id() + "\",\"object\":\"chat.completion.chunk\"," +
              "\"created\":" + std::to_string(std::time(nullptr)) + ",\"model\":";
    append_json_string(prefix_, chat.model);
    prefix_ += ",";
    if (p.behaviour == "echo") scripted_tokens_ = split_utf8(chat.transcript, 8);
    if (p.behaviour == "demo") scripted_tokens_ = split_utf8(demo_answer(chat.last_question), 6);
    token_count_ = scripted_tokens_.empty() ? static_cast<std::size_t>(std::max(0, p.tokens))
                                            : scripted_tokens_.size();
    if (shape_ != reasoning_shape::none)
        reasoning_count_ = static_cast<std::size_t>(std::max(0, p.think_tokens));
    // Like OpenAI: the answer stops at the request's cap and says so.
    if (chat.max_tokens > 0 && token_count_ > chat.max_tokens) {
        token_count_ = chat.max_tokens;
        cut_short_ = true;
    }
}

std::string_view answer_script::token(std::size_t i) const {
    if (!scripted_tokens_.empty()) return scripted_tokens_[i];
    if (defaults_.tokens.empty()) return "token ";
    return defaults_.tokens[i % defaults_.tokens.size()];
}

void answer_script::reasoning_word(std::size_t i, std::string& out) const {
    if (i > 0) out += ' ';
    out += "think";
    out += std::to_string(i + 1);
}

std::string answer_script::answer_text() const {
    std::string text;
    for (std::size_t i = 0; i < token_count_; ++i) text += token(i);
    return text;
}

std::string answer_script::reasoning_text() const {
    std::string text;
    for (std::size_t i = 0; i < reasoning_count_; ++i) reasoning_word(i, text);
    return text;
}

// Reasoning token i, then answer token j: one clock, so the answer starts when thinking ends.
ms answer_script::reasoning_due(std::size_t i) const {
    return plan_.first_delay + plan_.think_delay * static_cast<long>(i);
}

ms answer_script::answer_due(std::size_t j) const {
    return plan_.first_delay + plan_.think_delay * static_cast<long>(reasoning_count_) +
           plan_.delay * static_cast<long>(j);
}

ms answer_script::last_due() const {
    if (token_count_ > 0) return answer_due(token_count_ - 1);
    if (reasoning_count_ == 0 || shape_ == reasoning_shape::think_tags) return answer_due(0);
    return reasoning_due(reasoning_count_ - 1);
}

// think_tags: "<thi" | "nk>\nthink1" | " think2" … | " thinkN\n</th", then "ink>\n\n" on its own
// when thinking ends. Without reasoning tokens: "<thi" | "nk>\n\n</th".
std::size_t answer_script::reasoning_steps() const {
    if (shape_ != reasoning_shape::think_tags) return reasoning_count_;
    return reasoning_count_ == 0 ? 2 : reasoning_count_ + 1;
}

void answer_script::build_reasoning_step(std::size_t k) {
    text_.clear();
    if (shape_ != reasoning_shape::think_tags) {
        reasoning_word(k, text_);
        return;
    }
    if (k == 0) {
        text_ = open_head;
        return;
    }
    if (k == 1) text_ = open_tail;
    if (reasoning_count_ > 0) reasoning_word(k - 1, text_);
    if (k + 1 == reasoning_steps()) text_ += close_head;
}

answer_script::step answer_script::event(std::string_view choices, std::optional<ms> at) {
    event_ = "data: ";
    event_ += prefix_;
    event_ += choices;
    event_ += "\n\n";
    return {step::kind::event, at, event_};
}

answer_script::step answer_script::content_event(std::string_view text, std::optional<ms> at) {
    switch (shape_) {
        case reasoning_shape::deepseek:
            body_ = R"("choices":[{"index":0,"delta":{"content":)";
            append_json_string(body_, text);
            body_ += R"(,"reasoning_content":null},"finish_reason":null}]})";
            break;
        case reasoning_shape::openrouter:
            body_ = R"("choices":[{"index":0,"delta":{"role":"assistant","content":)";
            append_json_string(body_, text);
            body_ += R"(,"reasoning":null},"finish_reason":null}]})";
            break;
        default:
            body_ = R"("choices":[{"index":0,"delta":{"content":)";
            append_json_string(body_, text);
            body_ += R"(},"finish_reason":null}]})";
    }
    return event(body_, at);
}

answer_script::step answer_script::next() {
    switch (phase_) {
        case phase::role:
            phase_ = plan_.behaviour == "badjson" ? phase::badjson : phase::reasoning;
            return event(shape_ == reasoning_shape::deepseek ? role_chunk_deepseek : role_chunk,
                         std::nullopt);
        case phase::badjson:
            phase_ = phase::reasoning;
            return {step::kind::event, std::nullopt, "data: {not json\n\n"};
        case phase::reasoning:
            if (index_ < reasoning_steps()) {
                const auto k = index_++;
                build_reasoning_step(k);
                auto at = reasoning_due(shape_ == reasoning_shape::think_tags && k > 0 ? k - 1 : k);
                if (shape_ == reasoning_shape::think_tags) return content_event(text_, at);
                body_ = shape_ == reasoning_shape::deepseek ? reasoning_head_deepseek
                                                            : reasoning_head_openrouter;
                append_json_string(body_, text_);
                body_ += R"(},"finish_reason":null}]})";
                return event(body_, at);
            }
            index_ = 0;
            phase_ = shape_ == reasoning_shape::think_tags ? phase::think_close : phase::answer;
            return next();
        case phase::think_close:
            phase_ = phase::answer;
            return content_event(close_tail, answer_due(0));
        case phase::answer:
            if (drop_ && index_ == static_cast<std::size_t>(plan_.after)) {
                phase_ = phase::over;
                return {step::kind::dropped, std::nullopt, {}};
            }
            if (index_ < token_count_) {
                const auto j = index_++;
                return content_event(token(j), answer_due(j));
            }
            // `drop` with no more than `after` tokens ends here, before the final chunk.
            if (drop_) {
                phase_ = phase::over;
                return {step::kind::dropped, std::nullopt, {}};
            }
            phase_ = phase::stop;
            return next();
        case phase::stop: {
            phase_ = include_usage_ ? phase::usage : phase::done;
            std::string_view chunk = shape_ == reasoning_shape::deepseek     ? stop_chunk_deepseek
                                     : shape_ == reasoning_shape::openrouter ? stop_chunk_openrouter
                                                                             : stop_chunk;
            if (!cut_short_) return event(chunk, std::nullopt);
            body_ = chunk;
            body_.replace(body_.find("\"stop\""), 6, "\"length\"");
            return event(body_, std::nullopt);
        }
        case phase::usage: {
            phase_ = phase::done;
            // completion_tokens includes the reasoning, as every provider counts it.
            const auto completion = token_count_ + reasoning_count_;
            body_ = R"("choices":[],"usage":{"prompt_tokens":)" + std::to_string(prompt_tokens_) +
                    ",\"completion_tokens\":" + std::to_string(completion) +
                    ",\"total_tokens\":" + std::to_string(prompt_tokens_ + completion);
            if (shape_ == reasoning_shape::deepseek || shape_ == reasoning_shape::openrouter)
                body_ += R"(,"completion_tokens_details":{"reasoning_tokens":)" +
                         std::to_string(reasoning_count_) + "}";
            body_ += "}}";
            return event(body_, std::nullopt);
        }
        case phase::done:
            phase_ = phase::over;
            return {step::kind::done, std::nullopt, {}};
        case phase::over:
            break;
    }
    return {step::kind::done, std::nullopt, {}};
}

std::string answer_script::completion_body(const chat_request& chat) const {
    json::object message{{"role", "assistant"}, {"content", answer_text()}};
    if (shape_ == reasoning_shape::deepseek) message["reasoning_content"] = reasoning_text();
    if (shape_ == reasoning_shape::openrouter) message["reasoning"] = reasoning_text();
    if (shape_ == reasoning_shape::think_tags)
        message["content"] = std::string(open_head) + std::string(open_tail) + reasoning_text() +
                             std::string(close_head) + std::string(close_tail) + answer_text();
    const auto n = token_count_ + reasoning_count_;
    json::object usage{{"prompt_tokens", chat.prompt_tokens},
                       {"completion_tokens", n},
                       {"total_tokens", chat.prompt_tokens + n}};
    if (shape_ == reasoning_shape::deepseek || shape_ == reasoning_shape::openrouter)
        usage["completion_tokens_details"] = json::object{{"reasoning_tokens", reasoning_count_}};
    json::object body{
        {"id", completion_id()},
        {"object", "chat.completion"},
        {"created", std::time(nullptr)},
        {"model", chat.model},
        {"choices", json::array{json::object{{"index", 0},
                                             {"message", std::move(message)},
                                             {"finish_reason", cut_short_ ? "length" : "stop"}}}},
        {"usage", std::move(usage)}};
    return json::serialize(body);
}

}  // namespace chatd::fake
