// The sensitive-word automaton and the streaming masker.
#include <catch2/catch.hpp>

#include "chat/word_filter.hpp"

using chatd::chat::stream_masker;
using chatd::chat::word_filter;

TEST_CASE("words are found in one pass, overlapping and case-insensitive for ASCII") {
    word_filter f("he\nshe\n his \nhers\n\n敏感词\n");
    CHECK(f.longest() == 9);  // 敏感词: three 3-byte characters
    CHECK(f.first_match("ushers") == "she");
    CHECK(f.first_match("nothing here? no: t-h-e") == "he");
    CHECK(f.first_match("a b c") == "");
    CHECK(f.first_match("这是一个敏感词测试") == "敏感词");
    CHECK(f.mask("ushers") == "u*****");
    CHECK(f.mask("SHE said HIS") == "*** said ***");
    CHECK(f.mask("这是敏感词!") == "这是***!");
    CHECK(word_filter("").empty());
    CHECK(word_filter("").mask("anything") == "anything");
}

TEST_CASE("a word that is a suffix of another is still found") {
    word_filter f("abcd\nbc\n");
    CHECK(f.first_match("xabcy") == "bc");
    CHECK(f.mask("xabcy") == "xa**y");
    CHECK(f.mask("abcd") == "****");
}

TEST_CASE("streaming gives the same text as masking the whole, at every split") {
    word_filter f("brown fox\n狐狸\nLAZY\n");
    std::shared_ptr<const word_filter> shared(&f, [](const word_filter*) {});
    const std::string text = "The quick brown fox jumps over the lazy dog; 敏捷的棕色狐狸跳过懒狗";
    const std::string whole = f.mask(text);
    CHECK(whole == "The quick ********* jumps over the **** dog; 敏捷的棕色**跳过懒狗");
    for (std::size_t a = 0; a <= text.size(); ++a) {
        for (std::size_t b = a; b <= text.size(); b += 7) {
            stream_masker m(shared);
            std::string out = m.push(text.substr(0, a));
            out += m.push(text.substr(a, b - a));
            out += m.push(text.substr(b));
            out += m.finish();
            REQUIRE(out == whole);
        }
    }
    // Byte by byte, nothing shown is ever taken back.
    stream_masker m(shared);
    std::string out;
    for (char c : text) out += m.push(std::string(1, c));
    out += m.finish();
    CHECK(out == whole);
}

TEST_CASE("thousands of words build and match") {
    std::string lines;
    for (int i = 0; i < 5000; ++i) lines += "word" + std::to_string(i * 7919 % 100000) + "x\n";
    word_filter f(lines);
    CHECK(f.first_match("nothing to see") == "");
    CHECK(f.first_match("say WORD7919X now") == "WORD7919X");  // as written in the text
}
