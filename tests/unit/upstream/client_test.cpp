// The upstream client against small servers on 127.0.0.1 that speak raw HTTP/1.1
// (test_servers.hpp), so every byte on the wire is under the test's control.
#include "upstream/upstream_client.hpp"

#include <atomic>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/use_future.hpp>
#include <catch2/catch.hpp>
#include <future>
#include <mutex>
#include <thread>

#include "test_servers.hpp"

namespace {

namespace asio = boost::asio;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using namespace chatd::testing;
using chatd::cancel_handle;
using chatd::upstream::chat_request;
using chatd::upstream::client;
using chatd::upstream::client_options;
using chatd::upstream::http_response;
using chatd::upstream::outcome;
using kind = outcome::kind;

std::string name(kind k) {
    switch (k) {
        case kind::ok:
            return "ok";
        case kind::http_error:
            return "http_error";
        case kind::connect_failed:
            return "connect_failed";
        case kind::timeout_connect:
            return "timeout_connect";
        case kind::timeout_first_byte:
            return "timeout_first_byte";
        case kind::timeout_idle:
            return "timeout_idle";
        case kind::dropped:
            return "dropped";
        case kind::malformed:
            return "malformed";
        case kind::cancelled:
            return "cancelled";
    }
    return "?";
}

// ---- client side ------------------------------------------------------------------------------

client_options quick_options() {
    client_options o;
    o.connect_timeout = 2s;
    o.first_byte_timeout = 2s;
    o.idle_timeout = 2s;
    return o;
}

// Runs the client on one thread, as each of the daemon's event loops does: a connection and
// everything touching it (its exchange, timers and the cancel path) share that thread.
struct harness {
    explicit harness(client_options o = quick_options()) : cl(ioc.get_executor(), std::move(o)) {}

    template <class T>
    T run(std::function<asio::awaitable<T>()> body) {
        auto fut = asio::co_spawn(ioc, std::move(body), asio::use_future);
        ioc.run_for(8s);
        ioc.restart();
        REQUIRE(fut.wait_for(0s) == std::future_status::ready);
        return fut.get();
    }

    struct chat_result {
        outcome out;
        std::vector<std::string> deltas;
    };

    chat_result chat(const std::string& base, chatd::cancel_ptr cancel = nullptr,
                     std::function<void()> on_first_delta = nullptr, std::function<void()> on_each_delta = nullptr) {
        auto deltas = std::make_shared<std::vector<std::string>>();
        auto mu = std::make_shared<std::mutex>();
        chat_request req{base, "sk-test-0123456789abcd", "m", {{"user", "hi", {}}}, {}};
        chatd::upstream::delta_fn on_delta = [deltas, mu, on_first_delta, on_each_delta](chatd::upstream::text_kind,
                                                                                         std::string_view text) {
            bool first = false;
            {
                std::lock_guard lock(*mu);
                first = deltas->empty();
                deltas->emplace_back(text);
            }
            if (on_each_delta) on_each_delta();
            if (first && on_first_delta) on_first_delta();
        };
        auto out = run<outcome>([&]() -> asio::awaitable<outcome> {
            co_return co_await cl.stream_chat(req, on_delta, cancel);
        });
        return {out, *deltas};
    }

    http_response request(std::string method, std::string url,
                          std::vector<std::pair<std::string, std::string>> headers = {},
                          std::string body = {}, std::chrono::milliseconds timeout = 2s) {
        return run<http_response>([&]() -> asio::awaitable<http_response> {
            co_return co_await cl.request(method, url, headers, body, timeout);
        });
    }

    asio::io_context ioc{1};
    client cl;
};

bool eventually(const std::function<bool()>& cond, std::chrono::milliseconds limit = 2s) {
    const auto until = std::chrono::steady_clock::now() + limit;
    while (!cond()) {
        if (std::chrono::steady_clock::now() > until) return false;
        std::this_thread::sleep_for(5ms);
    }
    return true;
}

}  // namespace

TEST_CASE("client streams deltas and usage", "[upstream][client]") {
    test_server server(canned(sse_response(hello_events)));
    harness h;
    auto r = h.chat(server.base() + "/");
    CHECK(name(r.out.what) == "ok");
    CHECK(r.out.http_status == 200);
    CHECK(r.deltas == std::vector<std::string>{"Hel", "lo", ", world"});
    CHECK(r.out.got_delta);
    CHECK(r.out.finish_reason == "stop");
    REQUIRE(r.out.tokens);
    CHECK(r.out.tokens->prompt_tokens == 12);
    CHECK(r.out.tokens->completion_tokens == 3);

    auto reqs = server.requests();
    REQUIRE(reqs.size() == 1);
    const auto& head = reqs[0].head;
    CHECK(head.starts_with("POST /v1/chat/completions HTTP/1.1\r\n"));
    CHECK(head.find("\r\nAuthorization: Bearer sk-test-0123456789abcd\r\n") != std::string::npos);
    CHECK(head.find("\r\nContent-Type: application/json\r\n") != std::string::npos);
    CHECK(head.find("\r\nAccept: text/event-stream\r\n") != std::string::npos);
    CHECK(head.find("\r\nUser-Agent: chatd/") != std::string::npos);
    CHECK(head.find("\r\nHost: 127.0.0.1:" + std::to_string(server.port()) + "\r\n") !=
          std::string::npos);
    CHECK(reqs[0].body == R"({"model":"m","messages":[{"role":"user","content":"hi"}],"stream":true,"stream_options":{"include_usage":true}})");
}

TEST_CASE("client accepts a close-delimited stream that ends with a finish_reason",
          "[upstream][client]") {
    std::string response =
        "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream; charset=utf-8\r\n"
        "Connection: close\r\n\r\n" +
        event(chunk_json("one")) + event(chunk_json(" two", "length"));
    test_server server(once(response));
    harness h;
    auto r = h.chat(server.base());
    CHECK(name(r.out.what) == "ok");
    CHECK(r.deltas == std::vector<std::string>{"one", " two"});
    CHECK(r.out.finish_reason == "length");
    CHECK_FALSE(r.out.tokens);
}

TEST_CASE("client reports OpenAI error bodies", "[upstream][client]") {
    SECTION("401 invalid_api_key") {
        test_server server(canned(plain_response(
            401, "Unauthorized", "application/json",
            R"({"error":{"message":"Incorrect API key provided: sk-abc***","type":"invalid_request_error","param":null,"code":"invalid_api_key"}})")));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "http_error");
        CHECK(r.out.http_status == 401);
        CHECK(r.out.error_code == "invalid_api_key");
        CHECK(r.out.error_type == "invalid_request_error");
        CHECK(r.out.error_message == "Incorrect API key provided: sk-abc***");
        CHECK_FALSE(r.out.got_delta);
        CHECK_FALSE(r.out.retry_after_s);
    }
    SECTION("429 with Retry-After and a numeric code") {
        test_server server(canned(plain_response(
            429, "Too Many Requests", "application/json",
            R"({"error":{"message":"Rate limit reached","type":"requests","code":429}})",
            "Retry-After: 7\r\n")));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "http_error");
        CHECK(r.out.http_status == 429);
        CHECK(r.out.error_code == "429");
        CHECK(r.out.retry_after_s == 7);
    }
    SECTION("500 without a JSON body") {
        test_server server(
            canned(plain_response(500, "Internal Server Error", "text/plain", "upstream broke")));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "http_error");
        CHECK(r.out.http_status == 500);
        CHECK(r.out.error_code.empty());
        CHECK(r.out.error_message.find("upstream broke") != std::string::npos);
    }
}

TEST_CASE("client flags answers that are not a stream", "[upstream][client]") {
    SECTION("text/html") {
        test_server server(canned(plain_response(200, "OK", "text/html", "<html>login</html>")));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "malformed");
        CHECK(r.out.http_status == 200);
        CHECK(r.out.error_message.find("text/html") != std::string::npos);
    }
    SECTION("JSON error with a 200 status") {
        test_server server(canned(plain_response(
            200, "OK", "application/json",
            R"({"error":{"message":"model not found","type":"invalid_request_error","code":null}})")));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "malformed");
        CHECK(r.out.http_status == 200);
        CHECK(r.out.error_message == "model not found");
        CHECK(r.out.error_code.empty());
    }
    SECTION("bad JSON in a chunk") {
        test_server server(
            canned(sse_response({event(chunk_json("ok")), event("{not json"), event("[DONE]")})));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "malformed");
        CHECK(r.deltas == std::vector<std::string>{"ok"});
    }
    SECTION("error object inside the stream") {
        test_server server(canned(sse_response(
            {event(chunk_json("partial")),
             event(
                 R"({"error":{"message":"overloaded","type":"server_error","code":"overloaded"}})")})));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "http_error");
        CHECK(r.out.http_status == 200);
        CHECK(r.out.error_code == "overloaded");
        CHECK(r.out.error_message == "overloaded");
        CHECK(r.out.got_delta);
    }
}

TEST_CASE("client bounds what it keeps of a hostile stream", "[upstream][client]") {
    SECTION("an SSE line longer than 1 MiB") {
        test_server server(once(sse_head + http_chunk(event(chunk_json("ok"))) +
                                http_chunk("data: " + std::string(2 << 20, 'x'))));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "malformed");
        CHECK(r.out.error_message == "a stream line or event over the size limit");
        CHECK(r.deltas == std::vector<std::string>{"ok"});
    }
    SECTION("an HTTP chunk size line that never ends (read-ahead is capped at 256 KiB)") {
        test_server server(once(sse_head + http_chunk(event(chunk_json("ok"))) + "1;ext=" +
                                std::string(1 << 20, 'x')));
        harness h;
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "malformed");
        CHECK(r.out.error_message.starts_with("bad response body: "));
        CHECK(r.deltas == std::vector<std::string>{"ok"});
    }
}

TEST_CASE("client reports a stream dropped midway", "[upstream][client]") {
    test_server server(once(sse_head + http_chunk(event(chunk_json("Hel")))));
    harness h;
    auto r = h.chat(server.base());
    CHECK(name(r.out.what) == "dropped");
    CHECK(r.out.got_delta);
    CHECK(r.deltas == std::vector<std::string>{"Hel"});
}

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

TEST_CASE("client reuses connections", "[upstream][client]") {
    SECTION("two requests, one TCP connection") {
        test_server server(canned(sse_response(hello_events)));
        harness h;
        CHECK(name(h.chat(server.base()).out.what) == "ok");
        CHECK(name(h.chat(server.base()).out.what) == "ok");
        CHECK(server.accepts() == 1);
        CHECK(server.requests().size() == 2);
    }
    SECTION("an idle connection the server closed is replaced once") {
        test_server server(once(sse_response(hello_events)));
        harness h;
        CHECK(name(h.chat(server.base()).out.what) == "ok");
        REQUIRE(eventually([&] { return server.requests().size() == 1; }));
        std::this_thread::sleep_for(50ms);
        auto second = h.chat(server.base());
        CHECK(name(second.out.what) == "ok");
        CHECK(second.deltas == std::vector<std::string>{"Hel", "lo", ", world"});
        CHECK(server.accepts() == 2);
    }
    SECTION("a failed stream is not reused") {
        test_server server(canned(sse_response({event(chunk_json("a")), event("{bad")})));
        harness h;
        CHECK(name(h.chat(server.base()).out.what) == "malformed");
        CHECK(name(h.chat(server.base()).out.what) == "malformed");
        CHECK(server.accepts() == 2);
    }
}

TEST_CASE("client reports connection failures", "[upstream][client]") {
    std::uint16_t closed_port = 0;
    {
        asio::io_context ioc;
        tcp::acceptor a(ioc, {asio::ip::make_address("127.0.0.1"), 0});
        closed_port = a.local_endpoint().port();
    }
    harness h;
    auto r = h.chat("http://127.0.0.1:" + std::to_string(closed_port) + "/v1");
    CHECK(name(r.out.what) == "connect_failed");
    CHECK_FALSE(r.out.error_message.empty());

    CHECK(name(h.chat("not a url").out.what) == "connect_failed");
}

TEST_CASE("client verifies TLS against the configured CA", "[upstream][client][tls]") {
    const auto& cert = test_cert::get();
    REQUIRE(cert.ok);
    test_server server(canned(sse_response(hello_events)), cert.server_context());
    auto o = quick_options();
    o.ca_file = cert.cert;

    SECTION("trusted certificate for the right address") {
        harness h(o);
        auto r = h.chat(server.base("https"));
        CHECK(name(r.out.what) == "ok");
        CHECK(r.deltas == std::vector<std::string>{"Hel", "lo", ", world"});
        CHECK(name(h.chat(server.base("https")).out.what) == "ok");
        CHECK(server.accepts() == 1);
    }
    SECTION("certificate does not name the host") {
        harness h(o);
        auto r = h.chat(server.base("https", "localhost"));
        CHECK(name(r.out.what) == "connect_failed");
        CHECK(r.out.error_message.find("TLS") != std::string::npos);
    }
    SECTION("CA not trusted") {
        harness h;
        auto r = h.chat(server.base("https"));
        CHECK(name(r.out.what) == "connect_failed");
    }
}

TEST_CASE("client tunnels through an HTTP CONNECT proxy", "[upstream][client][proxy]") {
    const auto& cert = test_cert::get();
    REQUIRE(cert.ok);
    connect_proxy proxy;

    SECTION("https target") {
        test_server server(canned(sse_response(hello_events)), cert.server_context());
        auto o = quick_options();
        o.ca_file = cert.cert;
        o.proxy = proxy.url();
        harness h(o);
        auto r = h.chat(server.base("https"));
        CHECK(name(r.out.what) == "ok");
        CHECK(r.deltas == std::vector<std::string>{"Hel", "lo", ", world"});
        CHECK(name(h.chat(server.base("https")).out.what) == "ok");
        CHECK(proxy.tunnels() == 1);
        CHECK(proxy.last_target() == "127.0.0.1:" + std::to_string(server.port()));
    }
    SECTION("http target") {
        test_server server(canned(sse_response(hello_events)));
        auto o = quick_options();
        o.proxy = proxy.url();
        harness h(o);
        CHECK(name(h.chat(server.base()).out.what) == "ok");
        CHECK(proxy.tunnels() == 1);
    }
    SECTION("proxy refuses") {
        test_server refusing(canned("HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n"));
        test_server server(canned(sse_response(hello_events)));
        auto o = quick_options();
        o.proxy = "http://127.0.0.1:" + std::to_string(refusing.port());
        harness h(o);
        auto r = h.chat(server.base());
        CHECK(name(r.out.what) == "connect_failed");
        CHECK(r.out.error_message.find("403") != std::string::npos);
        CHECK(server.accepts() == 0);
    }
}

TEST_CASE("client makes plain requests", "[upstream][client][request]") {
    SECTION("GET with headers") {
        test_server server(
            canned(plain_response(200, "OK", "application/json", R"({"data":[{"id":"gpt-4o"}]})")));
        harness h;
        auto r = h.request("GET", server.base() + "/models?x=1",
                           {{"Authorization", "Bearer sk-abc"}, {"X-Extra", "1"}});
        CHECK(r.error.empty());
        CHECK(r.status == 200);
        CHECK(r.body == R"({"data":[{"id":"gpt-4o"}]})");
        auto reqs = server.requests();
        REQUIRE(reqs.size() == 1);
        CHECK(reqs[0].head.starts_with("GET /v1/models?x=1 HTTP/1.1\r\n"));
        CHECK(reqs[0].head.find("\r\nAuthorization: Bearer sk-abc\r\n") != std::string::npos);
        CHECK(reqs[0].head.find("\r\nX-Extra: 1\r\n") != std::string::npos);
    }
    SECTION("POST, error status and Retry-After") {
        test_server server(canned(
            plain_response(503, "Unavailable", "text/plain", "busy", "Retry-After: 30\r\n")));
        harness h;
        auto r =
            h.request("POST", server.base() + "/x", {{"Content-Type", "application/json"}}, "{}");
        CHECK(r.error.empty());
        CHECK(r.status == 503);
        CHECK(r.body == "busy");
        CHECK(r.retry_after_s == 30);
        REQUIRE(server.requests().size() == 1);
        CHECK(server.requests()[0].body == "{}");
    }
    SECTION("chunked body over TLS") {
        const auto& cert = test_cert::get();
        REQUIRE(cert.ok);
        test_server server(canned("HTTP/1.1 200 OK\r\nTransfer-Encoding: chunked\r\n\r\n" +
                                  http_chunk("{\"balance\":") + http_chunk("1.5}") + last_chunk),
                           cert.server_context());
        auto o = quick_options();
        o.ca_file = cert.cert;
        harness h(o);
        auto r = h.request("GET", server.base("https") + "/user/balance");
        CHECK(r.error.empty());
        CHECK(r.body == "{\"balance\":1.5}");
    }
    SECTION("close-delimited body over TLS without close_notify") {
        const auto& cert = test_cert::get();
        REQUIRE(cert.ok);
        test_server server(once("HTTP/1.1 200 OK\r\nConnection: close\r\n\r\n{\"ok\":true}"),
                           cert.server_context());
        auto o = quick_options();
        o.ca_file = cert.cert;
        harness h(o);
        auto r = h.request("GET", server.base("https") + "/models");
        INFO(r.error);
        CHECK(r.error.empty());
        CHECK(r.status == 200);
        CHECK(r.body == "{\"ok\":true}");
    }
    SECTION("timeout") {
        test_server server([](peer& p) -> asio::awaitable<void> {
            if (co_await p.next_request()) co_await p.wait_closed(3s);
        });
        harness h;
        auto r = h.request("GET", server.base(), {}, {}, 200ms);
        CHECK(r.status == 0);
        CHECK(r.error.find("timed out") != std::string::npos);
    }
    SECTION("invalid URL") {
        harness h;
        auto r = h.request("GET", "127.0.0.1/models");
        CHECK(r.status == 0);
        CHECK_FALSE(r.error.empty());
    }
}
