#pragma once
// Small servers on 127.0.0.1 for the upstream client tests. They speak raw HTTP/1.1 from a
// script, so every byte on the wire (chunking, early close, stalls) is under the test's control;
// also an HTTP CONNECT proxy and a self-signed certificate for TLS.
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
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/json.hpp>
#include <cctype>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <utility>
#include <vector>

namespace chatd::testing {

namespace asio = boost::asio;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;

inline constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

// ---- wire helpers -------------------------------------------------------------------------

inline std::string chunk_json(std::optional<std::string> content,
                              std::optional<std::string> finish = {},
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

inline std::string event(std::string_view data) {
    return "data: " + std::string(data) + "\n\n";
}

inline std::string http_chunk(std::string_view payload) {
    char size[32];
    std::snprintf(size, sizeof size, "%zx\r\n", payload.size());
    return size + std::string(payload) + "\r\n";
}

inline const std::string sse_head =
    "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\nTransfer-Encoding: chunked\r\n\r\n";
inline const std::string last_chunk = "0\r\n\r\n";

// A complete chunked SSE answer, one HTTP chunk per event.
inline std::string sse_response(const std::vector<std::string>& events) {
    std::string out = sse_head;
    for (const auto& e : events) out += http_chunk(e);
    return out + last_chunk;
}

inline std::string plain_response(int status, std::string_view reason,
                                  std::string_view content_type, std::string_view body,
                                  std::string_view extra_headers = "") {
    return "HTTP/1.1 " + std::to_string(status) + " " + std::string(reason) +
           "\r\nContent-Type: " + std::string(content_type) +
           "\r\nContent-Length: " + std::to_string(body.size()) + "\r\n" +
           std::string(extra_headers) + "\r\n" + std::string(body);
}

inline const std::vector<std::string> hello_events = {
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

inline std::size_t content_length(const std::string& head) {
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
            // As providers stream: each write goes out at once, not held back by Nagle.
            sock.set_option(tcp::no_delay(true), ec);
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
inline script canned(std::string response) {
    return [response](peer& p) -> asio::awaitable<void> {
        while (co_await p.next_request()) {
            if (!co_await p.send(response)) co_return;
        }
    };
}

// Answers one request, then closes the connection (or leaves it to the client to notice).
inline script once(std::string response) {
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
        using namespace asio::experimental::awaitable_operators;
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

}  // namespace chatd::testing
