#include "chat/word_filter.hpp"

#include <algorithm>
#include <deque>

#include "util/text.hpp"

namespace chatd::chat {

namespace {

unsigned char fold(unsigned char c) { return c >= 'A' && c <= 'Z' ? static_cast<unsigned char>(c + 32) : c; }

bool continuation(unsigned char c) { return (c & 0xC0) == 0x80; }

}  // namespace

word_filter::word_filter(std::string_view lines) {
    nodes_.emplace_back();
    while (!lines.empty()) {
        auto nl = lines.find('\n');
        std::string word = trim(lines.substr(0, nl));
        lines.remove_prefix(nl == std::string_view::npos ? lines.size() : nl + 1);
        if (word.empty()) continue;
        int n = 0;
        for (unsigned char b : word) {
            b = fold(b);
            auto& next = nodes_[n].next;
            auto it = std::lower_bound(next.begin(), next.end(), std::pair<unsigned char, int>{b, 0},
                                       [](auto& a, auto& v) { return a.first < v.first; });
            if (it != next.end() && it->first == b) {
                n = it->second;
            } else {
                int created = static_cast<int>(nodes_.size());
                next.insert(it, {b, created});
                nodes_.emplace_back();
                n = created;
            }
        }
        nodes_[n].out = std::max<std::uint32_t>(nodes_[n].out, static_cast<std::uint32_t>(word.size()));
        longest_ = std::max(longest_, word.size());
    }
    // Breadth-first failure links; each node also inherits the longest output of its suffix.
    std::deque<int> queue;
    for (auto [b, c] : nodes_[0].next) queue.push_back(c);
    while (!queue.empty()) {
        int n = queue.front();
        queue.pop_front();
        for (auto [b, c] : nodes_[n].next) {
            int f = nodes_[n].fail;
            while (f && child(f, b) < 0) f = nodes_[f].fail;
            int target = child(f, b);
            nodes_[c].fail = target >= 0 && target != c ? target : 0;
            nodes_[c].out = std::max(nodes_[c].out, nodes_[nodes_[c].fail].out);
            queue.push_back(c);
        }
    }
}

int word_filter::child(int n, unsigned char b) const {
    const auto& next = nodes_[n].next;
    auto it = std::lower_bound(next.begin(), next.end(), std::pair<unsigned char, int>{b, 0},
                               [](auto& a, auto& v) { return a.first < v.first; });
    return it != next.end() && it->first == b ? it->second : -1;
}

std::size_t word_filter::step(cursor& c, unsigned char byte) const {
    byte = fold(byte);
    int n = c.node;
    int next;
    while ((next = child(n, byte)) < 0 && n) n = nodes_[n].fail;
    c.node = next < 0 ? 0 : next;
    return nodes_[c.node].out;
}

std::string word_filter::first_match(std::string_view text) const {
    if (empty()) return {};
    cursor c;
    for (std::size_t i = 0; i < text.size(); ++i) {
        auto len = step(c, static_cast<unsigned char>(text[i]));
        if (len) return std::string(text.substr(i + 1 - len, len));
    }
    return {};
}

std::string word_filter::mask(std::string_view text) const {
    stream_masker m(std::shared_ptr<const word_filter>(this, [](const word_filter*) {}));
    return m.push(text) + m.finish();
}

std::string stream_masker::push(std::string_view delta) {
    std::size_t start = raw_.size();
    raw_.append(delta);
    for (std::size_t i = start; i < raw_.size(); ++i) {
        auto len = filter_->step(cursor_, static_cast<unsigned char>(raw_[i]));
        if (len) hits_.emplace_back(i + 1 - len, i + 1);
    }
    // A word not yet complete started within the last longest()-1 bytes.
    std::size_t hold = filter_->longest() ? filter_->longest() - 1 : 0;
    std::size_t safe = raw_.size() > hold ? utf8_floor(raw_, raw_.size() - hold) : 0;
    return masked_range(std::max(safe, emitted_));
}

std::string stream_masker::finish() { return masked_range(raw_.size()); }

std::string stream_masker::masked_range(std::size_t end) {
    std::string out;
    std::size_t i = emitted_;
    while (i < end) {
        std::size_t next = i + 1;
        while (next < raw_.size() && continuation(static_cast<unsigned char>(raw_[next]))) ++next;
        bool hit = std::any_of(hits_.begin(), hits_.end(), [&](auto& h) { return i < h.second && next > h.first; });
        if (hit) out += '*';
        else out.append(raw_, i, next - i);
        i = next;
    }
    emitted_ = std::max(emitted_, end);
    std::erase_if(hits_, [&](auto& h) { return h.second <= emitted_; });
    // Text already shown is no longer needed except for what a pending word may cover.
    return out;
}

}  // namespace chatd::chat
