#include "upstream/think_splitter.hpp"

#include <algorithm>

namespace chatd::upstream {

namespace {

constexpr std::string_view open_tag = "<think>";
constexpr std::string_view close_tag = "</think>";

bool is_blank(char c) { return c == ' ' || c == '\n' || c == '\r' || c == '\t'; }

// How many bytes at the end of `s` could be the start of `tag`: those wait for the next chunk.
std::size_t tag_prefix_at_end(std::string_view s, std::string_view tag) {
    for (std::size_t n = std::min(s.size(), tag.size() - 1); n > 0; --n)
        if (s.substr(s.size() - n) == tag.substr(0, n)) return n;
    return 0;
}

}  // namespace

void think_splitter::answer(std::string_view text, const delta_fn& emit) {
    if (!answer_started_) {
        auto first = std::find_if_not(text.begin(), text.end(), is_blank);
        text.remove_prefix(static_cast<std::size_t>(first - text.begin()));
        if (text.empty()) return;
        answer_started_ = true;
    }
    emit(text_kind::answer, text);
}

void think_splitter::feed(std::string_view content, const delta_fn& emit) {
    if (content.empty()) return;
    if (phase_ == phase::answering) {
        answer(content, emit);
        return;
    }
    held_.append(content);
    if (phase_ == phase::opening) {
        std::string_view start(held_);
        start.remove_prefix(std::min(start.size(), held_.find_first_not_of(" \n\r\t")));
        if (start.size() < open_tag.size() && open_tag.starts_with(start)) return;  // may still open
        if (!start.starts_with(open_tag)) {
            // No reasoning here: everything is the answer, exactly as it came.
            phase_ = phase::answering;
            answer_started_ = true;
            std::string all = std::move(held_);
            held_.clear();
            emit(text_kind::answer, all);
            return;
        }
        phase_ = phase::thinking;
        held_.erase(0, held_.size() - start.size() + open_tag.size());
    }
    // Thinking: everything up to </think> is reasoning.
    if (auto end = held_.find(close_tag); end != std::string::npos) {
        std::string rest = held_.substr(end + close_tag.size());
        held_.resize(end);
        if (!held_.empty()) emit(text_kind::reasoning, held_);
        held_.clear();
        phase_ = phase::answering;
        if (!rest.empty()) answer(rest, emit);
        return;
    }
    auto keep = tag_prefix_at_end(held_, close_tag);
    if (held_.size() > keep) {
        emit(text_kind::reasoning, std::string_view(held_).substr(0, held_.size() - keep));
        held_.erase(0, held_.size() - keep);
    }
}

void think_splitter::finish(const delta_fn& emit) {
    if (held_.empty()) return;
    std::string rest = std::move(held_);
    held_.clear();
    if (phase_ == phase::thinking) emit(text_kind::reasoning, rest);
    else answer(rest, emit);
}

}  // namespace chatd::upstream
