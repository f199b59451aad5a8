#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "upstream/think_splitter.hpp"

using namespace chatd::upstream;

namespace {

struct split {
    std::string reasoning, answer;
    std::vector<std::string> order;  // "r" / "a" per emitted piece

    explicit split(const std::vector<std::string>& chunks) {
        think_splitter s;
        delta_fn emit = [this](text_kind kind, std::string_view text) {
            CHECK_FALSE(text.empty());
            (kind == text_kind::reasoning ? reasoning : answer).append(text);
            order.push_back(kind == text_kind::reasoning ? "r" : "a");
        };
        for (auto& c : chunks) s.feed(c, emit);
        s.finish(emit);
    }
};

// Every way of cutting `text` into two chunks, and into single bytes.
std::vector<std::vector<std::string>> cuts(const std::string& text) {
    std::vector<std::vector<std::string>> out;
    for (std::size_t i = 0; i <= text.size(); ++i) out.push_back({text.substr(0, i), text.substr(i)});
    std::vector<std::string> bytes;
    for (char c : text) bytes.emplace_back(1, c);
    out.push_back(bytes);
    return out;
}

}  // namespace

TEST_CASE("think splitter: a leading <think> block is reasoning, however the chunks cut the tags",
          "[upstream][think]") {
    const std::string raw = "<think>\nLet me see: 2+2.\n</think>\n\nIt is 4. <think> stays here";
    for (auto& chunks : cuts(raw)) {
        split s(chunks);
        CHECK(s.reasoning == "\nLet me see: 2+2.\n");
        CHECK(s.answer == "It is 4. <think> stays here");
        // Reasoning strictly before the answer.
        auto first_answer = std::find(s.order.begin(), s.order.end(), "a");
        CHECK(std::find(first_answer, s.order.end(), "r") == s.order.end());
    }
}

TEST_CASE("think splitter: content without a leading tag passes through unchanged", "[upstream][think]") {
    for (std::string raw : {"Hello <think>not reasoning</think>", "  \n<thinking> is a word", "<", "<thi"}) {
        for (auto& chunks : cuts(raw)) {
            split s(chunks);
            CHECK(s.reasoning.empty());
            CHECK(s.answer == raw);
        }
    }
}

TEST_CASE("think splitter: leading blanks before the tag, and an unclosed block", "[upstream][think]") {
    SECTION("blank lines before <think> are dropped with it") {
        split s({"\n\n<think>", "a", "b</think>", "answer"});
        CHECK(s.reasoning == "ab");
        CHECK(s.answer == "answer");
    }
    SECTION("a stream that ends while thinking: all of it is reasoning") {
        split s({"<think>never ", "closed </thi"});
        CHECK(s.reasoning == "never closed </thi");
        CHECK(s.answer.empty());
    }
    SECTION("nothing after </think>") {
        split s({"<think>x</think>\n\n"});
        CHECK(s.reasoning == "x");
        CHECK(s.answer.empty());
    }
    SECTION("multibyte text is never cut inside a character") {
        split s({"<think>想一想</th", "ink>好的"});
        CHECK(s.reasoning == "想一想");
        CHECK(s.answer == "好的");
    }
}
