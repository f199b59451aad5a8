#pragma once
// What an answer is asked with: the question's branch of the conversation, trimmed to the
// model's budget. A rule of the chat, kept out of the store so that every backend only has
// to fetch the branch.
#include <string>
#include <vector>

#include "store/types.hpp"

namespace chatd::chat {

// One message of the context sent upstream.
struct context_message {
    std::string role;  // system | user | assistant
    std::string content;
};

// A model's budget for the context: its max_messages and max_context_chars.
struct context_budget {
    int max_messages = 20;
    int max_chars = 16000;  // counted in bytes of UTF-8, as stored
};

// `branch` runs from the conversation's first message down to the question, oldest first.
// Walking back from the question, messages are kept until the first one that would exceed
// either budget; the question is always kept. Answers that failed or have no text are left
// out and cost nothing. The context never opens with an answer (unless that is all there
// is). The system prompt, when not empty, comes first and costs nothing from the budget.
std::vector<context_message> select_context(std::vector<store::branch_message> branch,
                                            const std::string& system_prompt,
                                            const context_budget& budget);

}  // namespace chatd::chat
