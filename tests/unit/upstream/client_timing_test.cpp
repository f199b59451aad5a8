// The upstream client's clocks: first-byte and idle deadlines, stops, and the read gap of a
// fast stream, against the scripted servers of test_servers.hpp.
#include <atomic>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "client_harness.hpp"
#include "test_servers.hpp"

using namespace chatd::testing;

TEST_CASE("client enforces first-byte and idle deadlines", "[upstream][client]") {
    auto o = quick_options();
    o.first_byte_timeout = 200ms;
    o.idle_timeout = 200ms;
    SECTION("no answer at all") {
        test_server server([](peer& p) -> asio::awaitable<void> {
            if (co_await p.next_request()) co_await p.wait_closed(3s);
        });
        harness h(o);
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "timeout_first_byte");
        CHECK_FALSE(r.out.got_delta);
    }
    SECTION("silence after the first chunk") {
        test_server server([](peer& p) -> asio::awaitable<void> {
            if (!co_await p.next_request()) co_return;
            co_await p.send(sse_head + http_chunk(event(chunk_json("Hel"))));
            co_await p.wait_closed(3s);
        });
        harness h(o);
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "timeout_idle");
        CHECK(r.out.got_delta);
    }
    SECTION("a stream longer than the idle allowance, with short gaps, is not cut") {
        test_server server([](peer& p) -> asio::awaitable<void> {
            if (!co_await p.next_request()) co_return;
            if (!co_await p.send(sse_head)) co_return;
            for (int i = 0; i < 6; ++i) {
                if (!co_await p.send(http_chunk(event(chunk_json("t"))))) co_return;
                if (co_await p.wait_closed(80ms)) co_return;
            }
            co_await p.send(http_chunk(event("[DONE]")) + last_chunk);
        });
        harness h(o);
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "ok");
        CHECK(r.deltas.size() == 6);
    }
    SECTION("an idle allowance shorter than the first-byte one takes over after the first chunk") {
        o.first_byte_timeout = 3s;
        test_server server([](peer& p) -> asio::awaitable<void> {
            if (!co_await p.next_request()) co_return;
            if (!co_await p.send(sse_head + http_chunk(event(chunk_json("Hel"))))) co_return;
            // Silent past the idle allowance, then done before the first-byte one would end.
            if (co_await p.wait_closed(1500ms)) co_return;
            co_await p.send(http_chunk(event("[DONE]")) + last_chunk);
        });
        harness h(o);
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "timeout_idle");
    }
}

TEST_CASE("client aborts promptly when cancelled", "[upstream][client]") {
    SECTION("while streaming, from another thread") {
        test_server server([](peer& p) -> asio::awaitable<void> {
            if (!co_await p.next_request()) co_return;
            if (!co_await p.send(sse_head)) co_return;
            for (int i = 0; i < 100; ++i) {
                if (!co_await p.send(http_chunk(event(chunk_json("tick"))))) break;
                if (co_await p.wait_closed(50ms)) break;
            }
        });
        harness h;
        auto cancel = std::make_shared<cancel_handle>();
        std::thread canceller;
        std::atomic<bool> first{false};
        auto started = std::chrono::steady_clock::now();
        auto r = h.chat(server.base(), cancel, [&] {
            if (!first.exchange(true)) {
                canceller = std::thread([cancel] { cancel->cancel(); });
            }
        });
        auto elapsed = std::chrono::steady_clock::now() - started;
        if (canceller.joinable()) canceller.join();
        CHECK(name(r.out.what) == "cancelled");
        CHECK(r.out.got_delta);
        CHECK(elapsed < 2s);
    }
    SECTION("before it starts") {
        test_server server(canned(sse_response(hello_events)));
        harness h;
        auto cancel = std::make_shared<cancel_handle>();
        cancel->cancel();
        auto r = h.chat(server.base(), cancel);
        CHECK(name(r.out.what) == "cancelled");
        CHECK(server.accepts() == 0);
    }
}

TEST_CASE("cancelling closes the upstream connection", "[upstream][client]") {
    std::atomic<bool> closed{false};
    test_server server([&](peer& p) -> asio::awaitable<void> {
        if (!co_await p.next_request()) co_return;
        co_await p.send(sse_head + http_chunk(event(chunk_json("x"))));
        if (co_await p.wait_closed(5s)) closed = true;
    });
    harness h;
    auto cancel = std::make_shared<cancel_handle>();
    auto r = h.chat(server.base(), cancel, [cancel] { cancel->cancel(); });
    CHECK(name(r.out.what) == "cancelled");
    CHECK(eventually([&] { return closed.load(); }));
    // The handle outlives the call and must no longer reach the client.
    cancel->cancel();
}

TEST_CASE("a fast stream is read at most every stream_read_gap", "[upstream][client]") {
    // The first piece, then five more 10 ms apart, then the end.
    test_server server([](peer& p) -> asio::awaitable<void> {
        if (!co_await p.next_request()) co_return;
        if (!co_await p.send(sse_head + http_chunk(event(chunk_json("first"))))) co_return;
        for (int i = 0; i < 5; ++i) {
            if (co_await p.wait_closed(10ms)) co_return;
            if (!co_await p.send(http_chunk(event(chunk_json(" more"))))) co_return;
        }
        co_await p.send(http_chunk(event("[DONE]")) + last_chunk);
    });
    auto o = quick_options();
    o.stream_read_gap = 500ms;
    harness h(o);
    std::vector<std::chrono::steady_clock::time_point> seen;
    std::mutex mu;
    auto r = h.chat(server.base(), nullptr, nullptr, [&] {
        std::lock_guard lock(mu);
        seen.push_back(std::chrono::steady_clock::now());
    });
    CHECK(name(r.out.what) == "ok");
    REQUIRE(r.deltas.size() == 6);
    REQUIRE(seen.size() == 6);
    // The first two as they came: the second, 10 ms after the first, shows the stream is fast.
    // The rest waited in the socket for the gap and came in one read.
    CHECK(seen[2] - seen[1] >= 500ms);
    CHECK(seen[5] - seen[2] < 100ms);
}

TEST_CASE("a stop during the read gap ends the stream at once", "[upstream][client]") {
    test_server server([](peer& p) -> asio::awaitable<void> {
        if (!co_await p.next_request()) co_return;
        if (!co_await p.send(sse_head)) co_return;
        for (int i = 0; i < 100; ++i) {
            if (!co_await p.send(http_chunk(event(chunk_json("tick"))))) break;
            if (co_await p.wait_closed(10ms)) break;
        }
    });
    auto o = quick_options();
    o.stream_read_gap = 5s;
    o.idle_timeout = 10s;
    harness h(o);
    auto cancel = std::make_shared<cancel_handle>();
    int pieces = 0;
    auto started = std::chrono::steady_clock::now();
    // Stopped at the second piece, as the stream starts its first wait.
    auto r = h.chat(server.base(), cancel, nullptr, [&] {
        if (++pieces == 2) cancel->cancel();
    });
    CHECK(name(r.out.what) == "cancelled");
    CHECK(pieces == 2);
    CHECK(std::chrono::steady_clock::now() - started < 3s);  // not after the 5 s gap
}
