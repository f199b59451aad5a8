#include <catch2/catch.hpp>

#include "chat/generation.hpp"

using namespace chatd;

TEST_CASE("a generation hands followers its text once and wakes them") {
    chat::generation g(1, 2, 3);
    std::string text, fin;
    int woken = 0;
    g.poll(0, text, fin, [&] { ++woken; });
    CHECK(text.empty());
    g.append("hello ");
    CHECK(woken == 1);
    g.append("world");
    CHECK(woken == 1);  // one wake-up per registration
    g.poll(0, text, fin, [&] { ++woken; });
    CHECK(text == "hello world");
    g.poll(6, text, fin, [&] { ++woken; });
    CHECK(text == "world");
    CHECK(g.take_unsaved() == std::optional<std::string>("hello world"));
    CHECK_FALSE(g.take_unsaved());
    g.finish(chat::sse_event("done", 12, "{}"));
    text.clear();
    g.poll(11, text, fin, [&] { ++woken; });
    CHECK(fin == "event: done\nid: 12\ndata: {}\n\n");
    CHECK(chat::delta_event(5, "a\"b") == "event: delta\nid: 5\ndata: {\"text\":\"a\\\"b\"}\n\n");
}
