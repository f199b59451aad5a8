#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "upstream/chat_chunk.hpp"
#include "util/text.hpp"

using namespace chatd::upstream;

namespace {

// Feeds `data` events in order and keeps what the caller would see.
struct reader {
    outcome out;
    stream_state st;
    std::vector<std::string> deltas;     // answer text, piece by piece
    std::vector<std::string> reasoning;  // reasoning text, piece by piece

    reader& feed(std::string data) {
        sse_event ev;
        ev.data = std::move(data);
        on_stream_event(ev, out, st, [this](text_kind kind, std::string_view t) {
            (kind == text_kind::reasoning ? reasoning : deltas).emplace_back(t);
        });
        return *this;
    }
};

std::string content(std::string_view text) {
    return R"({"choices":[{"index":0,"delta":{"content":")" + std::string(text) +
           R"("},"finish_reason":null}]})";
}

}  // namespace

TEST_CASE("upstream chat chunks: deltas, finish_reason and [DONE]", "[upstream][chat_chunk]") {
    reader r;
    r.feed(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":""}}]})")
        .feed(content("Hel"))
        .feed(content("lo"))
        .feed(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
    CHECK(r.deltas == std::vector<std::string>{"Hel", "lo"});
    CHECK(r.out.got_delta);
    CHECK(r.out.finish_reason == "stop");
    CHECK_FALSE(r.st.done);
    r.feed("[DONE]");
    CHECK(r.st.done);
    CHECK_FALSE(r.st.failed);
    CHECK(r.out.what == outcome::kind::ok);

    r.feed(content("late"));
    CHECK(r.deltas.size() == 2);
}

TEST_CASE("upstream chat chunks: usage", "[upstream][chat_chunk]") {
    SECTION("from the final chunk with empty choices") {
        reader r;
        r.feed(R"({"choices":[],"usage":{"prompt_tokens":12,"completion_tokens":3}})");
        REQUIRE(r.out.tokens);
        CHECK(r.out.tokens->prompt_tokens == 12);
        CHECK(r.out.tokens->completion_tokens == 3);
        CHECK_FALSE(r.out.got_delta);
    }
    SECTION("odd numbers are clamped into an int") {
        reader r;
        r.feed(R"({"usage":{"prompt_tokens":-5,"completion_tokens":1e30}})");
        REQUIRE(r.out.tokens);
        CHECK(r.out.tokens->prompt_tokens == 0);
        CHECK(r.out.tokens->completion_tokens == std::numeric_limits<int>::max());
        r.feed(R"({"usage":{"prompt_tokens":18446744073709551615,"completion_tokens":"7"}})");
        CHECK(r.out.tokens->prompt_tokens == std::numeric_limits<int>::max());
        CHECK(r.out.tokens->completion_tokens == 0);
    }
    SECTION("null usage is no usage") {
        reader r;
        r.feed(R"({"choices":[],"usage":null})");
        CHECK_FALSE(r.out.tokens);
    }
}

TEST_CASE("upstream chat chunks: errors end the stream", "[upstream][chat_chunk]") {
    SECTION("an error object") {
        reader r;
        r.feed(content("partial"))
            .feed(R"({"error":{"message":"overloaded","type":"server_error","code":"overloaded"}})")
            .feed(content("after"));
        CHECK(r.st.failed);
        CHECK(r.out.what == outcome::kind::http_error);
        CHECK(r.out.error_code == "overloaded");
        CHECK(r.out.error_message == "overloaded");
        CHECK(r.deltas == std::vector<std::string>{"partial"});
    }
    SECTION("an error without a message") {
        reader r;
        r.feed(R"({"error":{"code":500}})");
        CHECK(r.out.what == outcome::kind::http_error);
        CHECK(r.out.error_message == "error event in the stream");
    }
    SECTION("a bare-string error") {
        reader r;
        r.feed(R"({"error":"quota exceeded"})");
        CHECK(r.out.error_message == "quota exceeded");
    }
    SECTION("a null error is no error") {
        reader r;
        r.feed(R"({"error":null,"choices":[{"delta":{"content":"ok"}}]})");
        CHECK_FALSE(r.st.failed);
        CHECK(r.deltas == std::vector<std::string>{"ok"});
    }
    SECTION("a chunk that is not a JSON object") {
        for (std::string bad : {"{not json", "[1]", "\"text\""}) {
            INFO(bad);
            reader r;
            r.feed(bad).feed("[DONE]");
            CHECK(r.st.failed);
            CHECK_FALSE(r.st.done);
            CHECK(r.out.what == outcome::kind::malformed);
            CHECK(r.out.error_message.starts_with("unparseable stream chunk: "));
        }
    }
}

TEST_CASE("upstream chat chunks: shapes without content are skipped", "[upstream][chat_chunk]") {
    reader r;
    r.feed(R"({"id":"x"})")
        .feed(R"({"choices":"none"})")
        .feed(R"({"choices":[1]})")
        .feed(R"({"choices":[{"delta":null}]})")
        .feed(R"({"choices":[{"delta":{"content":null}}]})")
        .feed(R"({"choices":[{"delta":{"content":7}}]})")
        .feed(R"({"choices":[{"delta":{"content":"a"},"finish_reason":5}]})");
    CHECK_FALSE(r.st.failed);
    CHECK(r.deltas == std::vector<std::string>{"a"});
    CHECK(r.out.finish_reason.empty());
}

namespace {

std::string delta(std::string_view field, std::string_view text) {
    return R"({"choices":[{"index":0,"delta":{")" + std::string(field) + R"(":")" + std::string(text) +
           R"("},"finish_reason":null}]})";
}

}  // namespace

TEST_CASE("upstream chat chunks: reasoning in each provider's shape", "[upstream][chat_chunk]") {
    SECTION("DeepSeek, Qwen, SiliconFlow: reasoning_content, with content null while thinking") {
        reader r;
        r.feed(R"({"choices":[{"index":0,"delta":{"role":"assistant","content":null,"reasoning_content":""}}]})")
            .feed(R"({"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"Hmm, "}}]})")
            .feed(R"({"choices":[{"index":0,"delta":{"content":null,"reasoning_content":"two."}}]})")
            .feed(R"({"choices":[{"index":0,"delta":{"content":"2","reasoning_content":null}}]})")
            .feed(R"({"choices":[{"index":0,"delta":{"content":""},"finish_reason":"stop"}]})")
            .feed(R"({"choices":[],"usage":{"prompt_tokens":9,"completion_tokens":40,)"
                  R"("completion_tokens_details":{"reasoning_tokens":33}}})")
            .feed("[DONE]");
        CHECK(r.reasoning == std::vector<std::string>{"Hmm, ", "two."});
        CHECK(r.deltas == std::vector<std::string>{"2"});
        CHECK(r.out.got_delta);
        REQUIRE(r.out.tokens);
        CHECK(r.out.tokens->completion_tokens == 40);
        CHECK(r.out.tokens->reasoning_tokens == 33);
    }
    SECTION("OpenRouter: reasoning") {
        reader r;
        r.feed(delta("reasoning", "think")).feed(delta("content", "answer")).feed("[DONE]");
        CHECK(r.reasoning == std::vector<std::string>{"think"});
        CHECK(r.deltas == std::vector<std::string>{"answer"});
        CHECK_FALSE(r.out.tokens);
    }
    SECTION("raw models: <think> in the content, released at the finish_reason") {
        reader r;
        r.feed(content("<thi")).feed(content("nk>why</think>")).feed(content("\\n\\nbecause"));
        CHECK(r.reasoning == std::vector<std::string>{"why"});
        CHECK(r.deltas == std::vector<std::string>{"because"});
        reader held;
        held.feed(content("<th"));
        CHECK(held.deltas.empty());
        CHECK_FALSE(held.out.got_delta);  // nothing shown yet: a failover is still silent
        held.feed(R"({"choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})");
        CHECK(held.deltas == std::vector<std::string>{"<th"});
    }
    SECTION("reasoning alone counts as a delivered delta") {
        reader r;
        r.feed(delta("reasoning_content", "x"));
        CHECK(r.out.got_delta);
        CHECK(r.deltas.empty());
    }
}

TEST_CASE("upstream chat chunks: hostile chunks fail the stream, bounded", "[upstream][chat_chunk]") {
    SECTION("JSON nested deeper than a chunk ever is") {
        const std::size_t depth = 100000;
        reader r;
        r.feed(content("fine "))
            .feed(R"({"choices":[{"delta":{"content":"x","extra":)" + std::string(depth, '[') +
                  std::string(depth, ']') + "}}]}")
            .feed(content("after"));
        CHECK(r.st.failed);
        CHECK(r.out.what == outcome::kind::malformed);
        CHECK(r.deltas == std::vector<std::string>{"fine "});
        CHECK(r.out.error_message.size() < 300);
    }
    SECTION("nesting a real chunk could have still parses") {
        reader r;
        r.feed(R"({"choices":[{"delta":{"content":"ok","x":[[[[[[[[[[1]]]]]]]]]]}}]})");
        CHECK_FALSE(r.st.failed);
        CHECK(r.deltas == std::vector<std::string>{"ok"});
    }
    SECTION("content that is not UTF-8") {
        reader r;
        r.feed(content("fine ")).feed(content("bad \x80 \xC3( \xFF end")).feed(content("after"));
        CHECK(r.st.failed);
        CHECK(r.out.what == outcome::kind::malformed);
        CHECK(r.deltas == std::vector<std::string>{"fine "});
        // The quoted chunk reaches logs and the key's last error as JSON: it must be UTF-8 itself.
        CHECK(r.out.error_message.find("\uFFFD") != std::string::npos);
        CHECK(chatd::valid_utf8(r.out.error_message));
    }
    SECTION("an answer that never ends is cut at max_answer_bytes") {
        reader r;
        const std::string piece(64 * 1024, 'a');
        std::size_t fed = 0;
        while (!r.st.failed && fed < 2 * max_answer_bytes) {
            r.feed(content(piece));
            fed += piece.size();
        }
        CHECK(r.st.failed);
        CHECK(r.out.what == outcome::kind::malformed);
        std::size_t got = 0;
        for (auto& d : r.deltas) got += d.size();
        CHECK(got <= max_answer_bytes);
        CHECK(got + piece.size() > max_answer_bytes);
        CHECK(r.out.error_message == "the answer grew past 2 MiB");
    }
}
