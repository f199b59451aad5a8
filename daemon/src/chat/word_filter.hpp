#pragma once
// The operator's sensitive-word list (敏感词): one Aho-Corasick automaton over UTF-8 bytes,
// ASCII case-insensitive, so thousands of words are matched in a single pass.
#include <cstdint>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace chatd::chat {

class word_filter {
public:
    // One word per line; blank lines and surrounding spaces are ignored.
    explicit word_filter(std::string_view word_lines);

    bool empty() const { return longest_ == 0; }
    std::size_t longest() const { return longest_; }
    // The first word found in `text`, or "" when there is none.
    std::string first_match(std::string_view text) const;
    // Every character inside a match becomes '*'.
    std::string mask(std::string_view text) const;

    // Incremental matching for a growing text (an answer being streamed).
    struct cursor {
        int node = 0;
    };
    // Feeds one byte; returns the length of the longest word ending here, or 0.
    std::size_t step(cursor& c, unsigned char byte) const;

private:
    struct node {
        std::vector<std::pair<unsigned char, int>> next;  // sorted by byte
        int fail = 0;
        std::uint32_t out = 0;  // longest word ending at this node (via fail links)
    };
    int child(int n, unsigned char b) const;
    std::vector<node> nodes_;
    std::size_t longest_ = 0;
};

// Masks a streamed answer: text is held back only as long as a word could still be
// completed by the next delta (the longest word's length minus one byte).
class stream_masker {
public:
    explicit stream_masker(std::shared_ptr<const word_filter> filter) : filter_(std::move(filter)) {}
    // The masked text that is now safe to show.
    std::string push(std::string_view delta);
    // Everything still held back, masked (the answer ended).
    std::string finish();

private:
    std::string masked_range(std::size_t end);
    std::shared_ptr<const word_filter> filter_;
    word_filter::cursor cursor_;
    std::string raw_;
    std::size_t emitted_ = 0;
    std::vector<std::pair<std::size_t, std::size_t>> hits_;  // [begin, end) not yet emitted
};

}  // namespace chatd::chat
