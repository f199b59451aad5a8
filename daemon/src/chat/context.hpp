#pragma once
// What an answer is asked with: the question's branch of the conversation, trimmed to the
// model's budget. A rule of the chat, kept out of the store: the store hands the branch over
// one message at a time (store::branch_reader) and stops reading once the selector is full.
#include <cstdint>
#include <string>
#include <vector>

#include "store/store.hpp"

namespace chatd::chat {

// An image of a question, sent to vision models as a data URL read from the blob store.
struct context_image {
    std::string mime, hash;
};

// One message of the context sent upstream.
struct context_message {
    std::string role;  // system | user | assistant
    std::string content;  // a question's files' text included, under their names
    std::vector<context_image> images;
};

// A model's budget for the context: its max_messages and max_context_chars.
struct context_budget {
    int max_messages = 20;
    int max_chars = 16000;  // counted in bytes of UTF-8, as stored
    bool images = false;    // a vision model: questions keep their images
};

// A question's text with its files' text after it, each under its name; the files' text is cut
// (at a character boundary, marked) so that the whole stays within `max_bytes` where it can.
std::string with_file_texts(const std::string& content, const std::vector<store::upload_row>& files,
                            std::int64_t max_bytes);

// Takes the branch from the question back towards the conversation's first message. Messages
// are kept until the first one that would exceed either budget; the question is always kept.
// Answers that failed or have no text are left out and cost nothing. A question's files count
// as its text; its images cost nothing from the budget. The context never opens with an answer
// (unless that is all there is). The system prompt, when not empty, comes
// first and costs nothing from the budget.
// A message as an API client sends it (CONTRACT §13): images as URLs (data: or https:).
struct client_message {
    std::string role;  // system | user | assistant
    std::string content;
    std::vector<std::string> image_urls;
};

// The context of a question asked through the API: the client sends the history itself. The
// same budget as the web's, kept from the newest message back (the last is always kept);
// system messages are joined into one system prompt, first; images only to a vision model.
std::vector<client_message> client_context(const std::vector<client_message>& messages, const context_budget& budget);

class context_selector {
public:
    explicit context_selector(const context_budget& budget) : budget_(budget) {}
    // The next older message of the branch; false once no older one can be kept.
    bool take(store::branch_message message);
    // take(), for the store's start_question and start_regenerate; valid while this lives.
    store::branch_reader reader() {
        return [this](store::branch_message message) { return take(std::move(message)); };
    }
    // The context, oldest first.
    std::vector<context_message> result(const std::string& system_prompt) &&;

private:
    context_budget budget_;
    std::vector<context_message> newest_first_;
    std::int64_t chars_ = 0;
};

}  // namespace chatd::chat
