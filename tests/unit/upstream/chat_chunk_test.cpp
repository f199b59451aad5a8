#include <catch2/catch.hpp>
#include <limits>
#include <string>
#include <vector>

#include "upstream/chat_chunk.hpp"

using namespace chatd::upstream;

namespace {

// Feeds `data` events in order and keeps what the caller would see.
struct reader {
    outcome out;
    stream_state st;
    std::vector<std::string> deltas;

    reader& feed(std::string data) {
        sse_event ev;
        ev.data = std::move(data);
        on_stream_event(ev, out, st, [this](std::string_view t) { deltas.emplace_back(t); });
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
