#include "fake_upstream_server.hpp"

#include "fake_upstream_answer.hpp"
#include "fake_upstream_hostile.hpp"
#include "fake_upstream_replies.hpp"
#include "fake_upstream_request.hpp"

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <optional>
#include <string>
#include <string_view>
#include <tuple>
#include <utility>
#include <variant>

namespace chatd::fake {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::experimental::awaitable_operators::operator||;
using steady = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_body = 4 * 1024 * 1024;

namespace {

using request = http::request<http::string_body>;

template <class Stream>
tcp::socket& socket_of(Stream& s) {
    return beast::get_lowest_layer(s);
}

template <class Stream>
asio::awaitable<bool> send(Stream& s, const request& req, http::status status, std::string body,
                           std::string_view content_type = "application/json",
                           int retry_after = -1) {
    http::response<http::string_body> res{status, req.version()};
    res.set(http::field::server, "fake_upstream");
    res.set(http::field::content_type, content_type);
    if (retry_after >= 0) res.set(http::field::retry_after, std::to_string(retry_after));
    res.keep_alive(req.keep_alive());
    res.body() = std::move(body);
    res.prepare_payload();
    auto [ec, n] = co_await http::async_write(s, res, use_tuple);
    co_return !ec && req.keep_alive();
}

asio::awaitable<void> wait_forever() {
    asio::steady_timer timer(co_await asio::this_coro::executor, steady::time_point::max());
    co_await timer.async_wait(use_tuple);
}

// Whether the peer has hung up, judged without consuming anything: a pipelined request stays
// readable for the parser, and under TLS the readable bytes may be a close_notify that only the
// TLS layer could interpret, so the kernel's view of the connection decides.
bool peer_gone(tcp::socket& sock) {
    char byte;
    auto n = ::recv(sock.native_handle(), &byte, 1, MSG_PEEK | MSG_DONTWAIT);
    if (n == 0) return true;
    if (n < 0) return errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR;
    tcp_info info{};
    socklen_t len = sizeof info;
    if (::getsockopt(sock.native_handle(), IPPROTO_TCP, TCP_INFO, &info, &len) != 0) return false;
    return info.tcpi_state != TCP_ESTABLISHED;
}

// Nothing reads the socket while an answer streams, so a vanished client would only show up at
// the next write, which for `hang` never comes. A pending readiness wait notices the hang-up at
// once; when bytes arrived instead, the state is polled until the peer really goes.
asio::awaitable<void> watch_peer(tcp::socket& sock) {
    auto [ec] = co_await sock.async_wait(tcp::socket::wait_read, use_tuple);
    if (ec == asio::error::operation_aborted) co_return;
    asio::steady_timer poll(co_await asio::this_coro::executor);
    while (!ec && !peer_gone(sock)) {
        poll.expires_after(ms{50});
        std::tie(ec) = co_await poll.async_wait(use_tuple);
    }
}

enum class outcome { finished, dropped, write_failed };


template <class Stream>
asio::awaitable<bool> write_sse_header(Stream& s, const request& req) {
    http::response<http::empty_body> res{http::status::ok, req.version()};
    res.set(http::field::server, "fake_upstream");
    res.set(http::field::content_type, "text/event-stream");
    res.set(http::field::cache_control, "no-cache");
    res.keep_alive(req.keep_alive());
    res.chunked(true);
    http::response_serializer<http::empty_body> sr{res};
    auto [ec, n] = co_await http::async_write_header(s, sr, use_tuple);
    co_return !ec;
}

// One HTTP chunk per event, so each event leaves as soon as it is due.
template <class Stream>
asio::awaitable<bool> write_chunk(Stream& s, std::string_view payload) {
    char size_line[24];
    int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", payload.size());
    std::array<asio::const_buffer, 3> buffers{asio::buffer(size_line, len),
                                              asio::buffer(payload), asio::buffer("\r\n", 2)};
    auto [ec, n] = co_await asio::async_write(s, buffers, use_tuple);
    co_return !ec;
}

// Writes the script's events as they fall due. Due times count from one origin (the first timed
// event) so that write time does not stretch the stream.
template <class Stream>
asio::awaitable<outcome> stream_answer(Stream& s, answer_script& script) {
    using kind = answer_script::step::kind;
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::optional<steady::time_point> origin;
    for (;;) {
        auto step = script.next();
        if (step.at) {
            if (!origin) origin = steady::now();
            auto due = *origin + *step.at;
            if (due > steady::now()) {
                timer.expires_at(due);
                auto [ec] = co_await timer.async_wait(use_tuple);
                if (ec) co_return outcome::write_failed;
            }
        }
        if (step.what == kind::dropped) co_return outcome::dropped;
        if (step.what == kind::done) break;
        if (!co_await write_chunk(s, step.bytes)) co_return outcome::write_failed;
    }
    // [DONE] and the last chunk leave together: nothing is due between them.
    constexpr std::string_view done = "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n";
    auto [ec, n] = co_await asio::async_write(s, asio::buffer(done), use_tuple);
    co_return ec ? outcome::write_failed : outcome::finished;
}

// Writes a hostile stream's pieces, already framed as HTTP chunks, as they fall due; `finished`
// once its last chunk is out, never for the endless ones.
template <class Stream>
asio::awaitable<outcome> stream_hostile(Stream& s, hostile_script& script) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::optional<steady::time_point> origin;
    while (auto piece = script.next()) {
        if (piece->at) {
            if (!origin) origin = steady::now();
            auto due = *origin + *piece->at;
            if (due > steady::now()) {
                timer.expires_at(due);
                auto [ec] = co_await timer.async_wait(use_tuple);
                if (ec) co_return outcome::write_failed;
            }
        }
        auto [ec, n] = co_await asio::async_write(s, asio::buffer(piece->bytes), use_tuple);
        if (ec) co_return outcome::write_failed;
    }
    co_return outcome::finished;
}

template <class Stream>
asio::awaitable<bool> hang(Stream& s, flight& f) {
    co_await (wait_forever() || watch_peer(socket_of(s)));
    f.client_closed();
    co_return false;
}

template <class Stream>
asio::awaitable<bool> send_canned(Stream& s, const request& req, canned c) {
    co_return co_await send(s, req, c.status, std::move(c.body), "application/json",
                            c.retry_after);
}

template <class Stream>
asio::awaitable<bool> handle_chat(Stream& s, const request& req, server& srv,
                                  const std::string& key, const plan& p) {
    srv.counters.remember_body(key, req.body());
    auto chat = parse_chat(req.body());
    if (!chat)
        co_return co_await send(s, req, http::status::bad_request,
                                openai_error("We could not parse the JSON body of your request.",
                                             "invalid_request_error", std::nullopt, std::nullopt));
    if (auto err = error_for(p, key, chat->model)) co_return co_await send_canned(s, req, *err);
    if (p.behaviour == "malformed")
        co_return co_await send(s, req, http::status::ok,
                                "<html><body>Bad gateway</body></html>", "text/html");
    if (p.behaviour == "nostreamopts" && chat->has_stream_options)
        co_return co_await send_canned(s, req, refuse_stream_options());

    flight f(srv.counters);
    if (p.behaviour == "hang") co_return co_await hang(s, f);
    if (p.behaviour == "hang_body" || chat->stream) {
        if (!co_await write_sse_header(s, req)) {
            f.client_closed();
            co_return false;
        }
        if (p.behaviour == "hang_body") co_return co_await hang(s, f);
        std::variant<outcome, std::monostate> result;
        if (hostile_script::handles(p.behaviour)) {
            hostile_script script(p);
            result = co_await (stream_hostile(s, script) || watch_peer(socket_of(s)));
        } else {
            answer_script script(*chat, p, srv.answer);
            result = co_await (stream_answer(s, script) || watch_peer(socket_of(s)));
        }
        if (result.index() == 1 || std::get<0>(result) == outcome::write_failed) {
            f.client_closed();
            co_return false;
        }
        co_return std::get<0>(result) == outcome::finished && req.keep_alive();
    }

    // Non-streaming callers get the whole answer once it would have finished streaming.
    answer_script script(*chat, p, srv.answer);
    if (p.behaviour == "drop") co_return false;
    asio::steady_timer timer(co_await asio::this_coro::executor, script.last_due());
    auto waited = co_await (timer.async_wait(use_tuple) || watch_peer(socket_of(s)));
    if (waited.index() == 1) {
        f.client_closed();
        co_return false;
    }
    co_return co_await send(s, req, http::status::ok, script.completion_body(*chat));
}

template <class Stream>
asio::awaitable<bool> handle_models(Stream& s, const request& req, server& srv,
                                    const std::string& key, const plan& p) {
    if (auto err = error_for(p, key, "gpt-4o-mini")) co_return co_await send_canned(s, req, *err);
    if (p.behaviour == "malformed")
        co_return co_await send(s, req, http::status::ok,
                                "<html><body>Bad gateway</body></html>", "text/html");
    if (p.behaviour == "hang") {
        flight f(srv.counters);
        co_return co_await hang(s, f);
    }
    co_return co_await send(s, req, http::status::ok, model_list());
}

// `malformed` keys get an HTML page from the balance endpoints, as a misconfigured proxy would.
template <class Stream>
asio::awaitable<bool> handle_balance(Stream& s, const request& req, std::string_view path,
                                     const std::string& key, const plan& p) {
    if (auto err = error_for(p, key, "gpt-4o-mini")) co_return co_await send_canned(s, req, *err);
    if (p.behaviour == "malformed")
        co_return co_await send(s, req, http::status::ok, "<html><body>Login</body></html>",
                                "text/html");
    co_return co_await send(s, req, http::status::ok, *balance_body(path, p.balance));
}

// The test hooks under /_fake/; nullopt when `path` is none of them.
template <class Stream>
asio::awaitable<std::optional<bool>> handle_hook(Stream& s, const request& req, server& srv,
                                                 std::string_view path) {
    std::string_view target = req.target();
    const auto method = req.method();
    if (path == "/_fake/stats" && method == http::verb::get)
        co_return co_await send(s, req, http::status::ok, srv.counters.to_json());
    if (path == "/_fake/reset" && method == http::verb::post) {
        srv.counters.reset();
        co_return co_await send(s, req, http::status::ok, "{}");
    }
    if (path == "/_fake/last" && method == http::verb::get) {
        auto key = query_param(target, "key");
        auto body = key ? srv.counters.last_body(*key) : std::nullopt;
        if (!body)
            co_return co_await send(s, req, http::status::not_found,
                                    openai_error("No request recorded for that key.",
                                                 "invalid_request_error", std::nullopt,
                                                 std::nullopt));
        co_return co_await send(s, req, http::status::ok, std::move(*body));
    }
    if (path == "/_fake/bodies" && method == http::verb::get) {
        auto key = query_param(target, "key");
        if (!key)
            co_return co_await send(s, req, http::status::bad_request,
                                    openai_error("/_fake/bodies needs ?key=URLENCODED_KEY.",
                                                 "invalid_request_error", "key", std::nullopt));
        co_return co_await send(s, req, http::status::ok, srv.counters.bodies_json(*key));
    }
    co_return std::nullopt;
}

template <class Stream>
asio::awaitable<bool> handle(Stream& s, const request& req, server& srv) {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
    const auto method = req.method();

    if (path.starts_with("/_fake/"))
        if (auto kept = co_await handle_hook(s, req, srv, path)) co_return *kept;

    const bool chat = path.ends_with("/chat/completions") && method == http::verb::post;
    const bool models = path.ends_with("/models") && method == http::verb::get;
    const bool balance = method == http::verb::get && balance_body(path, 0).has_value();
    if (!chat && !models && !balance)
        co_return co_await send(
            s, req, http::status::not_found,
            openai_error("Invalid URL (" + std::string(req.method_string()) + " " +
                             std::string(path) + ")",
                         "invalid_request_error", std::nullopt, std::nullopt));

    std::string_view auth = req[http::field::authorization];
    if (!auth.starts_with("Bearer ") || auth.size() == 7)
        co_return co_await send(
            s, req, http::status::unauthorized,
            openai_error("You didn't provide an API key. You need to provide your API key in an "
                         "Authorization header using Bearer auth (i.e. Authorization: Bearer "
                         "YOUR_KEY).",
                         "invalid_request_error", std::nullopt, std::nullopt));
    std::string key(auth.substr(7));
    auto seen = srv.counters.count_request(key);
    auto p = parse_key(key, srv.answer);
    if (seen <= p.fail_first) p.behaviour = "invalid";
    if (chat) co_return co_await handle_chat(s, req, srv, key, p);
    if (balance) co_return co_await handle_balance(s, req, path, key, p);
    co_return co_await handle_models(s, req, srv, key, p);
}

template <class Stream>
asio::awaitable<void> serve(Stream& s, server& srv) {
    beast::flat_buffer buffer;
    for (;;) {
        http::request_parser<http::string_body> parser;
        parser.body_limit(max_body);
        auto [ec, n] = co_await http::async_read(s, buffer, parser, use_tuple);
        if (ec == http::error::body_limit) {
            request req{http::verb::post, "/", 11};
            req.keep_alive(false);
            co_await send(s, req, http::status::payload_too_large,
                          openai_error("Request body exceeds 4 MiB.", "invalid_request_error",
                                       std::nullopt, std::nullopt));
            break;
        }
        if (ec) break;
        if (!co_await handle(s, parser.get(), srv)) break;
    }
    boost::system::error_code ignored;
    socket_of(s).shutdown(tcp::socket::shutdown_both, ignored);
    socket_of(s).close(ignored);
}

asio::awaitable<void> serve_plain(tcp::socket sock, server& srv) {
    co_await serve(sock, srv);
}

asio::awaitable<void> serve_tls(tcp::socket sock, ssl::context& tls, server& srv) {
    ssl::stream<tcp::socket> s(std::move(sock), tls);
    auto [ec] = co_await s.async_handshake(ssl::stream_base::server, use_tuple);
    if (ec) co_return;
    co_await serve(s, srv);
}

}  // namespace

asio::awaitable<void> accept_loop(tcp::acceptor& acceptor, server& srv, ssl::context* tls) {
    auto& ioc = static_cast<asio::io_context&>(acceptor.get_executor().context());
    asio::steady_timer backoff(acceptor.get_executor());
    for (;;) {
        auto [ec, sock] = co_await acceptor.async_accept(use_tuple);
        if (ec == asio::error::operation_aborted) co_return;
        if (ec) {
            // Out of descriptors: retrying at once would only spin.
            backoff.expires_after(ms{100});
            co_await backoff.async_wait(use_tuple);
            continue;
        }
        sock.set_option(tcp::no_delay(true), ec);
        auto strand = asio::make_strand(ioc);
        if (tls)
            asio::co_spawn(strand, serve_tls(std::move(sock), *tls, srv), asio::detached);
        else
            asio::co_spawn(strand, serve_plain(std::move(sock), srv), asio::detached);
    }
}

}  // namespace chatd::fake
