#include "chat/context.hpp"

#include <cstdint>
#include <iterator>

namespace chatd::chat {

std::vector<context_message> select_context(std::vector<store::branch_message> branch,
                                            const std::string& system_prompt,
                                            const context_budget& budget) {
    std::vector<context_message> newest_first;
    std::int64_t chars = 0;
    for (auto it = branch.rbegin(); it != branch.rend(); ++it) {
        // Answers that failed or never produced text add nothing useful to the context.
        if (it->role == "assistant" && (it->status == "failed" || it->content.empty())) continue;
        auto size = static_cast<std::int64_t>(it->content.size());
        bool first = newest_first.empty();  // the question: kept whatever its size
        if (!first && (static_cast<int>(newest_first.size()) >= budget.max_messages ||
                       chars + size > budget.max_chars))
            break;
        chars += size;
        newest_first.push_back({std::move(it->role), std::move(it->content)});
    }
    // A context must not start with an assistant turn.
    while (newest_first.size() > 1 && newest_first.back().role == "assistant") newest_first.pop_back();
    std::vector<context_message> out;
    out.reserve(newest_first.size() + 1);
    if (!system_prompt.empty()) out.push_back({"system", system_prompt});
    out.insert(out.end(), std::make_move_iterator(newest_first.rbegin()),
               std::make_move_iterator(newest_first.rend()));
    return out;
}

}  // namespace chatd::chat
