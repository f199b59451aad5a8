// The upstream client against small servers on 127.0.0.1 that speak raw HTTP/1.1, so every
// byte on the wire (chunking, early close, stalls) is under the test's control.
#include "upstream/upstream_client.hpp"

#include <unistd.h>

#include <array>
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/read.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/use_future.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <catch2/catch.hpp>
#include <cctype>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <future>
#include <mutex>
#include <thread>

namespace {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using namespace std::chrono_literals;
using namespace asio::experimental::awaitable_operators;
using chatd::cancel_handle;
using chatd::upstream::chat_request;
using chatd::upstream::client;
using chatd::upstream::client_options;
using chatd::upstream::http_response;
using chatd::upstream::outcome;
using kind = outcome::kind;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

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

// ---- wire helpers -------------------------------------------------------------------------

std::string chunk_json(std::optional<std::string> content, std::optional<std::string> finish = {},
                       std::optional<std::pair<int, int>> tokens = {}) {
    json::object delta;
    if (content) delta["content"] = *content;
    json::object choice{{"index", 0}, {"delta", delta}};
    choice["finish_reason"] = finish ? json::value(*finish) : json::value(nullptr);
    json::object chunk{{"id", "chatcmpl-1"},
                       {"object", "chat.completion.chunk"},
                       {"choices", json::array{choice}}};
    if (tokens) {
        chunk["usage"] =
            json::object{{"prompt_tokens", tokens->first}, {"completion_tokens", tokens->second}};
    }
    return json::serialize(chunk);
}

std::string event(std::string_view data) {
    return "data: " + std::string(data) + "\n\n";
}

std::string http_chunk(std::string_view payload) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
    return size + std::string(payload) + "\r\n";
}

const std::string sse_head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
const std::string last_chunk = "0\r\n\r\n";

// A complete chunked SSE answer, one HTTP chunk per event.
std::string sse_response(const std::vector<std::string>& events) {
    std::string out = sse_head;
    for (const auto& e : events) out += http_chunk(e);
    return out + last_chunk;
}

std::string plain_response(int status, std::string_view reason, std::string_view content_type,
                           std::string_view body, std::string_view extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Type: " + std::string(content_type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           std::string(extra_headers) + "\r\n" + std::string(body);
}

const std::vector<std::string> hello_events = {
    event(chunk_json("")),
    event(chunk_json("Hel")),
    event(chunk_json("lo")),
    event(chunk_json(", world")),
    event(chunk_json(std::nullopt, "stop")),
    event(R"({"id":"chatcmpl-1","object":"chat.completion.chunk","choices":[],)"
          R"("usage":{"prompt_tokens":12,"completion_tokens":3,"total_tokens":15}})"),
    event("[DONE]"),
};

// ---- test servers ---------------------------------------------------------------------------

struct served_request {
    std::string head;
    std::string body;
};

std::size_t content_length(const std::string& head) {
    std::string lower = head;
    for (auto& c : lower) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    auto at = lower.find("\r\ncontent-length:");
    if (at == std::string::npos) return 0;
    return std::stoul(lower.substr(at + 17));
}

// One accepted connection as a script sees it.
class peer {
  public:
    virtual ~peer() = default;
    virtual asio::awaitable<std::optional<served_request>> next_request() = 0;
    virtual asio::awaitable<bool> send(std::string bytes) = 0;
    // True once the client has closed the connection, false if it is still open after `limit`.
    virtual asio::awaitable<bool> wait_closed(std::chrono::milliseconds limit) = 0;
};

using script = std::function<asio::awaitable<void>(peer&)>;

class test_server;

template <class Stream>
class stream_peer final : public peer {
  public:
    stream_peer(Stream& s, test_server& server) : s_(s), server_(server) {}
    asio::awaitable<std::optional<served_request>> next_request() override;
    asio::awaitable<bool> send(std::string bytes) override {
        auto [ec, n] = co_await asio::async_write(s_, asio::buffer(bytes), use_tuple);
        co_return !ec;
    }
    asio::awaitable<bool> wait_closed(std::chrono::milliseconds limit) override {
        // The timer runs on the same single server thread, so cancelling from it is safe.
        auto expired = std::make_shared<bool>(false);
        asio::steady_timer timer(co_await asio::this_coro::executor, limit);
        timer.async_wait([expired, &layer = s_.lowest_layer()](boost::system::error_code ec) {
            if (ec) return;
            *expired = true;
            layer.cancel();
        });
        char sink[4096];
        for (;;) {
            auto [ec, n] = co_await s_.async_read_some(asio::buffer(sink), use_tuple);
            if (!ec) continue;
            timer.cancel();
            co_return !*expired;
        }
    }

  private:
    Stream& s_;
    test_server& server_;
    std::string in_;
};

class test_server {
  public:
    explicit test_server(script s, std::shared_ptr<ssl::context> tls = nullptr)
        : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}),
          script_(std::move(s)),
          tls_(std::move(tls)) {
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~test_server() {
        ioc_.stop();
        thread_.join();
    }
    std::uint16_t port() const { return acceptor_.local_endpoint().port(); }
    std::string base(std::string_view scheme = "http", std::string_view host = "127.0.0.1") const {
        return std::string(scheme) + "://" + std::string(host) + ":" + std::to_string(port()) +
               "/v1";
    }
    int accepts() const { return accepts_; }
    std::vector<served_request> requests() const {
        std::lock_guard lock(mu_);
        return requests_;
    }
    void record(served_request r) {
        std::lock_guard lock(mu_);
        requests_.push_back(std::move(r));
    }

  private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            ++accepts_;
            asio::co_spawn(ioc_, serve(std::move(sock)), asio::detached);
        }
    }
    asio::awaitable<void> serve(tcp::socket sock) {
        if (tls_) {
            ssl::stream<tcp::socket> s(std::move(sock), *tls_);
            auto [ec] = co_await s.async_handshake(ssl::stream_base::server, use_tuple);
            if (ec) co_return;
            stream_peer<ssl::stream<tcp::socket>> p(s, *this);
            co_await script_(p);
        } else {
            stream_peer<tcp::socket> p(sock, *this);
            co_await script_(p);
        }
    }

    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    script script_;
    std::shared_ptr<ssl::context> tls_;
    std::thread thread_;
    std::atomic<int> accepts_{0};
    mutable std::mutex mu_;
    std::vector<served_request> requests_;
};

template <class Stream>
asio::awaitable<std::optional<served_request>> stream_peer<Stream>::next_request() {
    auto [ec, n] =
        co_await asio::async_read_until(s_, asio::dynamic_buffer(in_), "\r\n\r\n", use_tuple);
    if (ec) co_return std::nullopt;
    served_request r;
    r.head = in_.substr(0, n);
    in_.erase(0, n);
    const std::size_t len = content_length(r.head);
    if (in_.size() < len) {
        auto [bec, m] = co_await asio::async_read(
            s_, asio::dynamic_buffer(in_), asio::transfer_exactly(len - in_.size()), use_tuple);
        if (bec) co_return std::nullopt;
    }
    r.body = in_.substr(0, len);
    in_.erase(0, len);
    server_.record(r);
    co_return r;
}

// Answers every request on a connection with the same bytes.
script canned(std::string response) {
    return [response](peer& p) -> asio::awaitable<void> {
        while (co_await p.next_request()) {
            if (!co_await p.send(response)) co_return;
        }
    };
}

// Answers one request, then closes the connection (or leaves it to the client to notice).
script once(std::string response) {
    return [response](peer& p) -> asio::awaitable<void> {
        if (co_await p.next_request()) co_await p.send(response);
    };
}

// An HTTP CONNECT proxy that relays bytes and counts tunnels.
class connect_proxy {
  public:
    connect_proxy() : acceptor_(ioc_, {asio::ip::make_address("127.0.0.1"), 0}) {
        asio::co_spawn(ioc_, accept_loop(), asio::detached);
        thread_ = std::thread([this] { ioc_.run(); });
    }
    ~connect_proxy() {
        ioc_.stop();
        thread_.join();
    }
    std::string url() const {
        return "http://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port());
    }
    int tunnels() const { return tunnels_; }
    std::string last_target() const {
        std::lock_guard lock(mu_);
        return last_target_;
    }

  private:
    asio::awaitable<void> accept_loop() {
        for (;;) {
            auto [ec, sock] = co_await acceptor_.async_accept(use_tuple);
            if (ec) co_return;
            asio::co_spawn(ioc_, tunnel(std::move(sock)), asio::detached);
        }
    }
    static asio::awaitable<void> relay(tcp::socket& from, tcp::socket& to) {
        std::array<char, 16384> buf;
        for (;;) {
            auto [ec, n] = co_await from.async_read_some(asio::buffer(buf), use_tuple);
            if (ec) {
                boost::system::error_code ignored;
                to.shutdown(tcp::socket::shutdown_send, ignored);
                co_return;
            }
            auto [wec, w] = co_await asio::async_write(to, asio::buffer(buf.data(), n), use_tuple);
            if (wec) co_return;
        }
    }
    asio::awaitable<void> tunnel(tcp::socket client_side) {
        std::string head;
        auto [ec, n] = co_await asio::async_read_until(client_side, asio::dynamic_buffer(head),
                                                       "\r\n\r\n", use_tuple);
        if (ec || !head.starts_with("CONNECT ")) co_return;
        const auto line = head.substr(0, head.find("\r\n"));
        const auto target = line.substr(8, line.rfind(' ') - 8);
        {
            std::lock_guard lock(mu_);
            last_target_ = target;
        }
        ++tunnels_;
        const auto colon = target.rfind(':');
        tcp::socket server_side(ioc_);
        auto [cec] = co_await server_side.async_connect(
            {asio::ip::make_address(target.substr(0, colon)),
             static_cast<std::uint16_t>(std::stoi(target.substr(colon + 1)))},
            use_tuple);
        std::string reply = cec ? "HTTP/1.1 502 Bad Gateway\r\n\r\n"
                                : "HTTP/1.1 200 Connection established\r\n\r\n";
        auto [wec, w] = co_await asio::async_write(client_side, asio::buffer(reply), use_tuple);
        if (cec || wec) co_return;
        co_await (relay(client_side, server_side) && relay(server_side, client_side));
    }

    asio::io_context ioc_;
    tcp::acceptor acceptor_;
    std::thread thread_;
    std::atomic<int> tunnels_{0};
    mutable std::mutex mu_;
    std::string last_target_;
};

// A self-signed certificate for IP:127.0.0.1 only, made once per run.
struct test_cert {
    std::filesystem::path dir;
    std::string cert;
    std::string key;
    bool ok = false;

    test_cert() {
        dir = std::filesystem::temp_directory_path() /
              ("chatd-upstream-test-" + std::to_string(::getpid()));
        std::filesystem::create_directories(dir);
        cert = (dir / "cert.pem").string();
        key = (dir / "key.pem").string();
        const std::string cmd =
            "openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 2 "
            "-subj /CN=chatd-test -addext subjectAltName=IP:127.0.0.1 -keyout '" +
            key + "' -out '" + cert + "' >/dev/null 2>&1";
        ok = std::system(cmd.c_str()) == 0;
    }
    ~test_cert() {
        std::error_code ec;
        std::filesystem::remove_all(dir, ec);
    }
    static const test_cert& get() {
        static test_cert instance;
        return instance;
    }
    std::shared_ptr<ssl::context> server_context() const {
        auto ctx = std::make_shared<ssl::context>(ssl::context::tls_server);
        ctx->use_certificate_chain_file(cert);
        ctx->use_private_key_file(key, ssl::context::pem);
        return ctx;
    }
};

// ---- client side ------------------------------------------------------------------------------

client_options quick_options() {
    client_options o;
    o.connect_timeout = 2s;
    o.first_byte_timeout = 2s;
    o.idle_timeout = 2s;
    return o;
}

// Runs the client on a two-thread io_context, as the daemon does, with a strand per caller.
struct harness {
    explicit harness(client_options o = quick_options()) : cl(ioc.get_executor(), std::move(o)) {}

    template <class T>
    T run(std::function<asio::awaitable<T>()> body) {
        auto fut = asio::co_spawn(asio::make_strand(ioc), std::move(body), asio::use_future);
        std::thread second([this] { ioc.run_for(8s); });
        ioc.run_for(8s);
        second.join();
        ioc.restart();
        REQUIRE(fut.wait_for(0s) == std::future_status::ready);
        return fut.get();
    }

    struct chat_result {
        outcome out;
        std::vector<std::string> deltas;
    };

    chat_result chat(const std::string& base, chatd::cancel_ptr cancel = nullptr,
                     std::function<void()> on_first_delta = nullptr) {
        auto deltas = std::make_shared<std::vector<std::string>>();
        auto mu = std::make_shared<std::mutex>();
        chat_request req{base, "sk-test-0123456789abcd", R"({"model":"m","stream":true})"};
        chatd::upstream::delta_fn on_delta = [deltas, mu, on_first_delta](std::string_view text) {
            bool first = false;
            {
                std::lock_guard lock(*mu);
                first = deltas->empty();
                deltas->emplace_back(text);
            }
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

    asio::io_context ioc{2};
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
    CHECK(reqs[0].body == R"({"model":"m","stream":true})");
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
