#include <catch2/catch.hpp>

#include "chat/generation.hpp"

using namespace chatd;

TEST_CASE("a generation hands followers its text once and wakes them") {
    chat::generation g(1, 2, 3);
    std::string reasoning, text, fin;
    int woken = 0;
    g.poll(0, reasoning, text, fin, [&] { ++woken; });
    CHECK(text.empty());
    g.append("hello ");
    CHECK(woken == 1);
    g.append("world");
    CHECK(woken == 1);  // one wake-up per registration
    g.poll(0, reasoning, text, fin, [&] { ++woken; });
    CHECK(text == "hello world");
    CHECK(reasoning.empty());
    g.poll(6, reasoning, text, fin, [&] { ++woken; });
    CHECK(text == "world");
    auto unsaved = g.take_unsaved();
    REQUIRE(unsaved);
    CHECK(unsaved->message_id == 1);
    CHECK(unsaved->content == "hello world");
    CHECK_FALSE(g.take_unsaved());
    g.finish(chat::sse_event("done", 12, "{}"));
    text.clear();
    g.poll(11, reasoning, text, fin, [&] { ++woken; });
    CHECK(fin == "event: done\nid: 12\ndata: {}\n\n");
    CHECK(chat::delta_event(5, "a\"b") == "event: delta\nid: 5\ndata: {\"text\":\"a\\\"b\"}\n\n");
}

TEST_CASE("reasoning comes first and shares the answer's offsets") {
    chat::generation g(1, 2, 3);
    std::string reasoning, text, fin;
    int woken = 0;
    g.poll(0, reasoning, text, fin, [&] { ++woken; });
    g.append_reasoning("think ");
    CHECK(woken == 1);
    g.append_reasoning("more");
    g.poll(0, reasoning, text, fin, [] {});
    CHECK(reasoning == "think more");
    CHECK(text.empty());
    auto unsaved = g.take_unsaved();
    REQUIRE(unsaved);
    CHECK(unsaved->reasoning == "think more");

    g.append("answer");
    g.append_reasoning("late");  // after the answer began: dropped
    CHECK(g.reasoning() == "think more");

    SECTION("from the start: all of both") {
        reasoning.clear();
        text.clear();
        g.poll(0, reasoning, text, fin, [] {});
        CHECK(reasoning == "think more");
        CHECK(text == "answer");
    }
    SECTION("from inside the reasoning: its rest, then the whole answer") {
        reasoning.clear();
        text.clear();
        g.poll(6, reasoning, text, fin, [] {});
        CHECK(reasoning == "more");
        CHECK(text == "answer");
    }
    SECTION("from inside the answer: offsets count the reasoning too") {
        reasoning.clear();
        text.clear();
        g.poll(10 + 3, reasoning, text, fin, [] {});
        CHECK(reasoning.empty());
        CHECK(text == "wer");
    }
    SECTION("at the end: nothing, and the follower waits") {
        reasoning.clear();
        text.clear();
        int later = 0;
        g.poll(16, reasoning, text, fin, [&] { ++later; });
        CHECK((reasoning.empty() && text.empty() && fin.empty()));
        g.finish("x");
        CHECK(later == 1);
    }
}

TEST_CASE("resume points fall back to a character boundary of reasoning + text") {
    std::string reasoning = "想想", text = "答案";  // three bytes a character
    CHECK(chat::resume_point(reasoning, text, 0) == 0);
    CHECK(chat::resume_point(reasoning, text, 4) == 3);
    CHECK(chat::resume_point(reasoning, text, 6) == 6);
    CHECK(chat::resume_point(reasoning, text, 8) == 6);
    CHECK(chat::resume_point(reasoning, text, 10) == 9);
    CHECK(chat::resume_point(reasoning, text, 999) == 12);
    CHECK(chat::reasoning_event(4, "hm") == "event: reasoning\nid: 4\ndata: {\"text\":\"hm\"}\n\n");
}
