// The upstream client against small servers on 127.0.0.1 that speak raw HTTP/1.1
// (test_servers.hpp), so every byte on the wire is under the test's control.
#include <atomic>
#include <boost/asio/ip/tcp.hpp>
#include <catch2/catch.hpp>
#include <mutex>
#include <thread>

#include "client_harness.hpp"
#include "test_servers.hpp"

using namespace chatd::testing;
using tcp = boost::asio::ip::tcp;

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
