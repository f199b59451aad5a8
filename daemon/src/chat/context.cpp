#include "chat/context.hpp"

#include <algorithm>
#include <iterator>
#include <limits>

#include "util/text.hpp"

namespace chatd::chat {

std::string with_file_texts(const std::string& content, const std::vector<store::upload_row>& files,
                            std::int64_t max_bytes) {
    std::string out = content;
    for (const auto& f : files) {
        if (f.kind != "file") continue;
        std::string head = "\n\n--- " + f.name + " ---\n";
        auto room = max_bytes - static_cast<std::int64_t>(out.size() + head.size());
        std::string_view text(f.text);
        bool cut = room < static_cast<std::int64_t>(text.size());
        if (cut) text = text.substr(0, utf8_floor(text, static_cast<std::size_t>(std::max<std::int64_t>(room - 16, 0))));
        out.append(head).append(text);
        if (cut) out.append("\n[…truncated]");
    }
    return out;
}

bool context_selector::take(store::branch_message message) {
    // Answers that failed or never produced text add nothing useful to the context.
    if (message.role == "assistant" && (message.status == "failed" || message.content.empty()))
        return true;
    bool first = newest_first_.empty();  // the question: kept whatever its size
    std::string content = message.attachments.empty()
                              ? std::move(message.content)
                              : with_file_texts(message.content, message.attachments,
                                                first ? budget_.max_chars : std::numeric_limits<std::int64_t>::max());
    auto size = static_cast<std::int64_t>(content.size());
    if (!first && (static_cast<int>(newest_first_.size()) >= budget_.max_messages ||
                   chars_ + size > budget_.max_chars))
        return false;
    chars_ += size;
    context_message kept{std::move(message.role), std::move(content), {}};
    if (budget_.images)
        for (const auto& a : message.attachments)
            if (a.kind == "image") kept.images.push_back({a.mime, a.hash});
    newest_first_.push_back(std::move(kept));
    return true;
}

std::vector<context_message> context_selector::result(const std::string& system_prompt) && {
    // A context must not start with an assistant turn.
    while (newest_first_.size() > 1 && newest_first_.back().role == "assistant")
        newest_first_.pop_back();
    std::vector<context_message> out;
    out.reserve(newest_first_.size() + 1);
    if (!system_prompt.empty()) out.push_back({"system", system_prompt, {}});
    out.insert(out.end(), std::make_move_iterator(newest_first_.rbegin()),
               std::make_move_iterator(newest_first_.rend()));
    return out;
}

std::vector<client_message> client_context(const std::vector<client_message>& messages,
                                           const context_budget& budget) {
    std::string system_prompt;
    std::vector<const client_message*> turns;
    for (const auto& m : messages) {
        if (m.role == "system") system_prompt += (system_prompt.empty() ? "" : "\n\n") + m.content;
        else turns.push_back(&m);
    }
    context_selector selector(budget);
    for (auto it = turns.rbegin(); it != turns.rend(); ++it)
        if (!selector.take({(*it)->role, (*it)->content, "done", {}})) break;
    auto kept = std::move(selector).result(system_prompt);
    // The selector keeps a run of the newest turns: they pair with the end of `turns`.
    std::vector<client_message> out;
    out.reserve(kept.size());
    std::size_t turn = turns.size() - (kept.size() - (system_prompt.empty() ? 0 : 1));
    for (auto& k : kept) {
        client_message m{std::move(k.role), std::move(k.content), {}};
        if (m.role != "system") {
            if (budget.images) m.image_urls = turns[turn]->image_urls;
            ++turn;
        }
        out.push_back(std::move(m));
    }
    return out;
}

}  // namespace chatd::chat
