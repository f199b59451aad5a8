#include <catch2/catch.hpp>
#include <string>
#include <vector>

#include "upstream/sse_parser.hpp"

using chatd::upstream::sse_event;
using chatd::upstream::sse_parser;

namespace {

struct collected {
    std::vector<sse_event> events;
    bool ok = true;
};

collected feed_pieces(const std::vector<std::string>& pieces, std::size_t max_line = 1 << 20) {
    sse_parser parser;
    parser.set_max_line(max_line);
    collected out;
    for (const auto& piece : pieces) {
        out.ok = parser.feed(piece, [&](const sse_event& ev) { out.events.push_back(ev); });
        if (!out.ok) break;
    }
    return out;
}

bool same(const std::vector<sse_event>& a, const std::vector<sse_event>& b) {
    if (a.size() != b.size()) return false;
    for (std::size_t i = 0; i < a.size(); ++i) {
        if (a[i].data != b[i].data || a[i].event != b[i].event || a[i].id != b[i].id) return false;
    }
    return true;
}

std::string with_endings(std::string text, std::string_view eol) {
    std::string out;
    for (char c : text) {
        if (c == '\n') {
            out += eol;
        } else {
            out += c;
        }
    }
    return out;
}

// Shaped like a real OpenAI stream, with a keep-alive comment, an escaped newline inside the
// JSON, a named event with an id and a two-line data field thrown in.
const std::string openai_stream =
    R"(data: {"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}

: keep-alive

data: {"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"Hel"},"finish_reason":null}]}

data: {"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[{"index":0,"delta":{"content":"lo\nworld"},"finish_reason":null}]}

event: note
id: 42
data: first
data: second

data: {"id":"chatcmpl-9","object":"chat.completion.chunk","choices":[{"index":0,"delta":{},"finish_reason":"stop"}],"usage":{"prompt_tokens":9,"completion_tokens":2}}

data: [DONE]

)";

}  // namespace

TEST_CASE("sse parser reads a realistic OpenAI stream", "[upstream][sse]") {
    auto whole = feed_pieces({openai_stream});
    REQUIRE(whole.ok);
    REQUIRE(whole.events.size() == 6);
    CHECK(whole.events[1].data.find(R"("content":"Hel")") != std::string::npos);
    CHECK(whole.events[3].event == "note");
    CHECK(whole.events[3].id == "42");
    CHECK(whole.events[3].data == "first\nsecond");
    CHECK(whole.events[4].id == "42");  // the last event id carries over
    CHECK(whole.events[4].event.empty());
    CHECK(whole.events[5].data == "[DONE]");
}

TEST_CASE("sse parser gives the same events at every split point", "[upstream][sse]") {
    for (std::string_view eol : {"\n", "\r\n", "\r"}) {
        const std::string text = with_endings(openai_stream, eol);
        const auto reference = feed_pieces({text}).events;
        REQUIRE(reference.size() == 6);
        for (std::size_t cut = 0; cut <= text.size(); ++cut) {
            auto split = feed_pieces({text.substr(0, cut), text.substr(cut)});
            INFO("line ending " << (eol == "\n"     ? "LF"
                                    : eol == "\r\n" ? "CRLF"
                                                    : "CR")
                                << ", cut at " << cut);
            REQUIRE(split.ok);
            REQUIRE(same(split.events, reference));
        }
        std::vector<std::string> bytes;
        for (char c : text) bytes.emplace_back(1, c);
        CHECK(same(feed_pieces(bytes).events, reference));
    }
}

TEST_CASE("sse parser treats a CR and LF split across feeds as one line ending",
          "[upstream][sse]") {
    auto r = feed_pieces({"data: a\r", "\ndata: b\r\n\r\n"});
    REQUIRE(r.events.size() == 1);
    CHECK(r.events[0].data == "a\nb");

    auto cr_only = feed_pieces({"data: a\r", "data: b\r", "\r"});
    REQUIRE(cr_only.events.size() == 1);
    CHECK(cr_only.events[0].data == "a\nb");
}

TEST_CASE("sse parser field rules", "[upstream][sse]") {
    auto r =
        feed_pieces({"data:x\n\ndata:  two spaces\n\ndata\n\nevent: lonely\n\n"
                     ": comment only\n\nunknown: field\ndata: y\nretry: 10\n\n"});
    REQUIRE(r.events.size() == 4);
    CHECK(r.events[0].data == "x");
    CHECK(r.events[1].data == " two spaces");
    CHECK(r.events[2].data.empty());
    CHECK(r.events[3].data == "y");
    CHECK(r.events[3].event.empty());

    auto unterminated = feed_pieces({"data: never dispatched\n"});
    CHECK(unterminated.events.empty());
}

TEST_CASE("sse parser skips a leading BOM, even when split", "[upstream][sse]") {
    auto whole =
        feed_pieces({"\xEF\xBB\xBF"
                     "data: a\n\n"});
    REQUIRE(whole.events.size() == 1);
    CHECK(whole.events[0].data == "a");

    auto split = feed_pieces({"\xEF", "\xBB",
                              "\xBF"
                              "da",
                              "ta: a\n\n"});
    REQUIRE(split.events.size() == 1);
    CHECK(split.events[0].data == "a");

    // Only at the very start: later it is data like any other bytes.
    auto later =
        feed_pieces({"data: a\n\n\xEF\xBB\xBF"
                     "data: b\n\n"});
    REQUIRE(later.events.size() == 1);

    auto not_bom = feed_pieces({"\xEF", "x\n\ndata: c\n\n"});
    REQUIRE(not_bom.events.size() == 1);
    CHECK(not_bom.events[0].data == "c");
}

TEST_CASE("sse parser enforces the line limit", "[upstream][sse]") {
    CHECK(feed_pieces({"data: 12345678\n\n"}, 14).ok);
    CHECK_FALSE(feed_pieces({"data: 123456789\n\n"}, 14).ok);
    CHECK_FALSE(feed_pieces({"data: 1234", "56789"}, 14).ok);
    auto fits = feed_pieces({"data: 1234", "5678\n\n"}, 14);
    REQUIRE(fits.ok);
    REQUIRE(fits.events.size() == 1);
    CHECK(fits.events[0].data == "12345678");
}

TEST_CASE("sse parser bounds an event's data, however many lines it has", "[upstream][sse]") {
    // Each line is within the limit; the event they make is not, and no blank line ever ends it.
    CHECK(feed_pieces({"data: 1234\n", "data: 567\n\n"}, 14).ok);
    CHECK(feed_pieces({"data: 1234\n", "data: 5678\n", "data: 9abc\n\n"}, 14).ok);  // 14 bytes
    CHECK_FALSE(feed_pieces({"data: 1234\n", "data: 5678\n", "data: 9abc\n", "data: d\n"}, 14).ok);
    auto fits = feed_pieces({"data: 1234\ndata: 567\n\n", "data: 1234\ndata: 567\n\n"}, 14);
    REQUIRE(fits.ok);
    REQUIRE(fits.events.size() == 2);
    CHECK(fits.events[1].data == "1234\n567");
}
