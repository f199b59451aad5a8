#include "chat/context.hpp"

#include <iterator>

namespace chatd::chat {

bool context_selector::take(store::branch_message message) {
    // Answers that failed or never produced text add nothing useful to the context.
    if (message.role == "assistant" && (message.status == "failed" || message.content.empty()))
        return true;
    auto size = static_cast<std::int64_t>(message.content.size());
    bool first = newest_first_.empty();  // the question: kept whatever its size
    if (!first && (static_cast<int>(newest_first_.size()) >= budget_.max_messages ||
                   chars_ + size > budget_.max_chars))
        return false;
    chars_ += size;
    newest_first_.push_back({std::move(message.role), std::move(message.content)});
    return true;
}

std::vector<context_message> context_selector::result(const std::string& system_prompt) && {
    // A context must not start with an assistant turn.
    while (newest_first_.size() > 1 && newest_first_.back().role == "assistant")
        newest_first_.pop_back();
    std::vector<context_message> out;
    out.reserve(newest_first_.size() + 1);
    if (!system_prompt.empty()) out.push_back({"system", system_prompt});
    out.insert(out.end(), std::make_move_iterator(newest_first_.rbegin()),
               std::make_move_iterator(newest_first_.rend()));
    return out;
}

}  // namespace chatd::chat
