#include <catch2/catch.hpp>
#include <sstream>

#include "util/text_wrap.hpp"

using namespace chatd;

namespace {

std::vector<std::string> lines_of(const std::string& text) {
    std::vector<std::string> lines;
    std::istringstream in(text);
    for (std::string line; std::getline(in, line);) lines.push_back(line);
    return lines;
}

std::vector<std::string> words_of(const std::string& text) {
    std::vector<std::string> words;
    std::istringstream in(text);
    for (std::string word; in >> word;) words.push_back(word);
    return words;
}

}  // namespace

TEST_CASE("wrap breaks between words and never beyond the width") {
    const std::string text =
        "Test a key (GET /models), or without ID every invalid key; a key that works returns to\n"
        "the pool, one the provider refuses is marked invalid.";
    for (std::size_t width : {40u, 60u, 100u}) {
        const auto wrapped = wrap(text, width);
        for (const auto& line : lines_of(wrapped)) CHECK(display_width(line) <= width);
        CHECK(words_of(wrapped) == words_of(text));
    }
    CHECK(wrap("one two three", 9) == "one two\nthree\n");
}

TEST_CASE("wrap hangs continuation lines under the prefix") {
    CHECK(wrap("alpha beta gamma delta", 20, "  --opt  ", 9) == "  --opt  alpha beta\n         gamma delta\n");
    // A word wider than the line stands alone rather than being cut.
    CHECK(wrap("a https://example.com/a/very/long/path b", 12) == "a\nhttps://example.com/a/very/long/path\nb\n");
    // An empty line keeps paragraphs apart.
    CHECK(wrap("first\n\nsecond", 40) == "first\n\nsecond\n");
}

TEST_CASE("wrap_entry puts the description in a column, or below a wide term") {
    CHECK(wrap_entry("  -h", "show this help", 40, 10) == "  -h      show this help\n");
    CHECK(wrap_entry("  --a-very-long-option", "text", 40, 10) == "  --a-very-long-option\n          text\n");
}

TEST_CASE("display width counts Chinese characters as two columns") {
    CHECK(display_width("abc") == 3);
    CHECK(display_width("密钥") == 4);
    CHECK(display_width("sk-…") == 4);  // the ellipsis is narrow
}

TEST_CASE("the width comes from the terminal, else COLUMNS, else 80, at least 40") {
    CHECK(choose_width(std::size_t{120}, "60") == 120);
    CHECK(choose_width(std::nullopt, "60") == 60);
    CHECK(choose_width(std::nullopt, nullptr) == 80);
    CHECK(choose_width(std::nullopt, "wide") == 80);
    CHECK(choose_width(std::nullopt, "20") == 40);
}
