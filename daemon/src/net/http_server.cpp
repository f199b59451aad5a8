#include "net/http_server.hpp"

#include <sys/stat.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <atomic>
#include <filesystem>
#include <mutex>
#include <optional>
#include <set>
#include <spdlog/spdlog.h>

#include "util/file_lock.hpp"
#include "util/text.hpp"

namespace chatd::net {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);
using tcp = asio::ip::tcp;
using local = asio::local::stream_protocol;
// Connections taken from the listen queue per wake-up of the accepting loop, besides the first.
constexpr int accepts_per_wakeup = 256;

std::string_view request::header(std::string_view lower_name) const {
    for (auto& [k, v] : headers)
        if (k == lower_name) return v;
    return {};
}

std::string request::header_joined(std::string_view lower_name) const {
    std::string out;
    for (auto& [k, v] : headers)
        if (k == lower_name) out += (out.empty() ? "" : ", ") + v;
    return out;
}

std::string request::query_param(std::string_view name) const {
    std::string_view q = query;
    while (!q.empty()) {
        auto amp = q.find('&');
        auto part = q.substr(0, amp);
        auto eq = part.find('=');
        if (part.substr(0, eq) == name)
            return eq == std::string_view::npos ? std::string() : percent_decode(part.substr(eq + 1), true);
        if (amp == std::string_view::npos) break;
        q.remove_prefix(amp + 1);
    }
    return {};
}

response json_response(int status, std::string body) {
    response r;
    r.status = status;
    r.body = std::move(body);
    return r;
}

std::string percent_decode(std::string_view s, bool plus_as_space) {
    std::string out;
    out.reserve(s.size());
    auto hex = [](char c) -> int {
        if (c >= '0' && c <= '9') return c - '0';
        if (c >= 'a' && c <= 'f') return c - 'a' + 10;
        if (c >= 'A' && c <= 'F') return c - 'A' + 10;
        return -1;
    };
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size() && hex(s[i + 1]) >= 0 && hex(s[i + 2]) >= 0) {
            out += static_cast<char>(hex(s[i + 1]) * 16 + hex(s[i + 2]));
            i += 2;
        } else if (s[i] == '+' && plus_as_space) {
            out += ' ';
        } else {
            out += s[i];
        }
    }
    return out;
}

namespace {

// The contract's error body for a body over its allowance.
std::string too_large_body(std::size_t max_body) {
    return R"x({"error":{"reason":"too_large","message":"请求内容太大 (the request body is over )x" +
           std::to_string(max_body) + R"x( bytes)"}})x";
}

// Requests whose framing two parsers could read differently are refused before their body is
// read (request smuggling through a proxy): a Transfer-Encoding other than exactly "chunked",
// or together with Content-Length; and HTTP/1.1 without Host.
template <class Fields>
std::optional<std::string> framing_refusal(const http::request<http::string_body, Fields>& msg) {
    int te_fields = 0;
    for (auto& f : msg)
        if (f.name() == http::field::transfer_encoding) {
            ++te_fields;
            if (ascii_lower(trim(f.value())) != "chunked") return R"({"error":"unsupported Transfer-Encoding"})";
        }
    if (te_fields > 1) return R"({"error":"repeated Transfer-Encoding"})";
    if (te_fields == 1 && msg.count(http::field::content_length) > 0)
        return R"({"error":"both Transfer-Encoding and Content-Length"})";
    if (msg.version() >= 11 && msg.count(http::field::host) == 0) return R"({"error":"Host header required"})";
    return std::nullopt;
}

// Closes a connection from any thread (shutdown), on the connection's own loop. `alive`
// is only touched on that loop, so a close posted after the session ended does nothing.
struct connection_handle {
    bool alive = true;
    std::atomic<bool> busy{false};  // between reading a request and finishing its response
    std::function<void()> close;
};

template <class Stream>
class session_responder final : public responder {
public:
    session_responder(Stream& s, const server_limits& l, unsigned version, bool keep_alive)
        : stream_(s), limits_(l), version_(version), keep_alive_(keep_alive) {}

    bool finished() const { return sent_ || streaming_; }
    bool streaming() const { return streaming_; }
    bool failed() const { return failed_; }
    bool keep_alive() const { return keep_alive_; }

    awaitable<void> send(response r) override {
        if (finished()) co_return;
        sent_ = true;
        stream_.expires_after(limits_.write_timeout);
        if (!r.file_path.empty()) {
            http::response<http::file_body> res{static_cast<http::status>(r.status), version_};
            beast::error_code ec;
            res.body().open(r.file_path.c_str(), beast::file_mode::scan, ec);
            if (ec) {
                r.status = 404;
                r.file_path.clear();
                r.body = R"({"error":"not found"})";
                sent_ = false;
                co_await send(std::move(r));
                co_return;
            }
            fill(res, r);
            res.prepare_payload();
            auto [wec, n] = co_await http::async_write(stream_, res, as_tuple);
            failed_ = static_cast<bool>(wec);
        } else {
            http::response<http::string_body> res{static_cast<http::status>(r.status), version_};
            fill(res, r);
            res.body() = std::move(r.body);
            res.prepare_payload();
            auto [wec, n] = co_await http::async_write(stream_, res, as_tuple);
            failed_ = static_cast<bool>(wec);
        }
        stream_.expires_never();
    }

    awaitable<bool> open_stream(response head) override {
        if (finished()) co_return false;
        streaming_ = true;
        http::response<http::empty_body> res{static_cast<http::status>(head.status), version_};
        fill(res, head);
        res.chunked(true);
        http::response_serializer<http::empty_body> sr{res};
        stream_.expires_after(limits_.write_timeout);
        auto [ec, n] = co_await http::async_write_header(stream_, sr, as_tuple);
        stream_.expires_never();
        failed_ = static_cast<bool>(ec);
        co_return !failed_;
    }

    awaitable<bool> write(std::string chunk) override {
        if (!streaming_ || failed_) co_return false;
        const auto frame = http::make_chunk(asio::buffer(chunk));
        // A client that keeps up has room in its socket for the whole chunk: written at once,
        // with no timer to arm and no wake-up to wait for. Only what does not fit waits, under
        // write_timeout.
        beast::error_code ec;
        auto& socket = stream_.socket();
        if (!socket.non_blocking()) socket.non_blocking(true, ec);
        const std::size_t sent = ec ? 0 : socket.write_some(frame, ec);
        if (!ec && sent == asio::buffer_size(frame)) co_return true;
        if (ec && ec != asio::error::would_block && ec != asio::error::try_again) {
            failed_ = true;
            co_return false;
        }
        beast::buffers_suffix<std::decay_t<decltype(frame)>> rest(frame);
        rest.consume(sent);
        stream_.expires_after(limits_.write_timeout);
        auto [wec, n] = co_await asio::async_write(stream_, rest, as_tuple);
        stream_.expires_never();
        failed_ = static_cast<bool>(wec);
        co_return !failed_;
    }

    awaitable<void> end_stream() {
        if (!streaming_ || failed_) co_return;
        stream_.expires_after(limits_.write_timeout);
        auto [ec, n] = co_await asio::async_write(stream_, http::make_chunk_last(), as_tuple);
        stream_.expires_never();
        failed_ = static_cast<bool>(ec);
    }

private:
    template <class Res>
    void fill(Res& res, const response& r) {
        res.set(http::field::server, "chatd");
        if (!r.content_type.empty()) res.set(http::field::content_type, r.content_type);
        for (auto& [k, v] : r.headers) res.insert(k, v);
        res.keep_alive(keep_alive_);
    }

    Stream& stream_;
    const server_limits& limits_;
    unsigned version_;
    bool keep_alive_;
    bool sent_ = false, streaming_ = false, failed_ = false;
};

}  // namespace

struct http_server::impl : std::enable_shared_from_this<impl> {
    asio::io_context& ioc;
    std::vector<asio::io_context*> session_loops;
    std::atomic<std::size_t> next_loop{0};
    handler on_request;
    server_limits limits;
    std::vector<std::shared_ptr<tcp::acceptor>> tcp_acceptors;
    std::vector<std::shared_ptr<local::acceptor>> unix_acceptors;
    std::vector<file_lock> locks;
    std::vector<std::string> unix_paths;
    mutable std::mutex mu;
    std::set<std::shared_ptr<connection_handle>> live;
    bool closing = false;

    impl(asio::io_context& c, handler h, server_limits l, std::vector<asio::io_context*> loops)
        : ioc(c), session_loops(loops.empty() ? std::vector<asio::io_context*>{&c} : std::move(loops)),
          on_request(std::move(h)), limits(l) {}

    ~impl() {
        for (auto& p : unix_paths) ::unlink(p.c_str());
    }

    // A connection's loop, round robin; a loop is one thread, so what runs on it needs no strand.
    asio::io_context::executor_type pick_loop() {
        return session_loops[next_loop++ % session_loops.size()]->get_executor();
    }

    template <class Acceptor>
    awaitable<void> accept_loop(std::shared_ptr<Acceptor> acceptor, bool admin) {
        auto backoff = std::chrono::milliseconds(10);
        for (;;) {
            auto loop = pick_loop();
            auto [ec, sock] = co_await acceptor->async_accept(loop, as_tuple);
            if (ec == asio::error::operation_aborted || !acceptor->is_open()) co_return;
            if (ec) {
                // Out of descriptors: wait instead of spinning on accept.
                spdlog::warn("accept failed: {}; retrying in {} ms", ec.message(), backoff.count());
                asio::steady_timer t(ioc, backoff);
                co_await t.async_wait(as_tuple);
                backoff = std::min(backoff * 2, std::chrono::milliseconds(1000));
                continue;
            }
            backoff = std::chrono::milliseconds(10);
            start_session(std::move(sock), loop, admin);
            // A burst leaves more in the listen queue: take them all now (the acceptor does not
            // block), not one per turn of a loop that is busy relaying thousands of answers.
            for (int more = 0; more < accepts_per_wakeup; ++more) {
                auto next = pick_loop();
                beast::error_code aec;
                auto queued = acceptor->accept(next, aec);
                if (aec) break;  // nothing left, or an error the next async_accept meets again
                start_session(std::move(queued), next, admin);
            }
        }
    }

    template <class Socket>
    void start_session(Socket sock, asio::io_context::executor_type loop, bool admin) {
        std::string peer = "local";
        if constexpr (std::is_same_v<typename Socket::protocol_type, tcp>) {
            beast::error_code pec;
            auto ep = sock.remote_endpoint(pec);
            if (!pec) {
                auto addr = ep.address();
                if (addr.is_v6() && addr.to_v6().is_v4_mapped())
                    addr = asio::ip::make_address_v4(asio::ip::v4_mapped, addr.to_v6());
                peer = addr.to_string();
            }
            sock.set_option(tcp::no_delay(true), pec);
        }
        using protocol = typename Socket::protocol_type;
        beast::basic_stream<protocol, asio::io_context::executor_type> stream(std::move(sock));
        asio::co_spawn(loop, run_session(std::move(stream), std::move(peer), admin), asio::detached);
    }

    template <class Stream>
    awaitable<void> run_session(Stream stream, std::string peer, bool admin) {
        auto self = shared_from_this();
        auto handle = std::make_shared<connection_handle>();
        auto ex = stream.get_executor();
        handle->close = [h = std::weak_ptr(handle), &stream, ex] {
            asio::post(ex, [h, &stream] {
                auto alive = h.lock();
                if (!alive || !alive->alive) return;
                beast::error_code ec;
                stream.socket().shutdown(asio::socket_base::shutdown_both, ec);
                stream.socket().close(ec);
            });
        };
        {
            std::lock_guard lock(mu);
            if (closing) co_return;
            live.insert(handle);
        }
        try {
            co_await serve(stream, peer, admin, *handle);
        } catch (const std::exception& e) {
            spdlog::debug("http session from {} ended: {}", peer, e.what());
        }
        {
            std::lock_guard lock(mu);
            live.erase(handle);
        }
        handle->alive = false;
        beast::error_code ec;
        stream.socket().shutdown(asio::socket_base::shutdown_send, ec);
    }

    template <class Stream>
    awaitable<void> serve(Stream& stream, const std::string& peer, bool admin, connection_handle& handle) {
        beast::flat_buffer buffer;
        for (;;) {
            // On the heap, and gone before the request is handled: an answer's stream can stay
            // open for minutes, thousands at once, each holding this frame.
            auto reading = std::make_unique<http::request_parser<http::string_body>>();
            auto& parser = *reading;
            parser.header_limit(static_cast<std::uint32_t>(limits.max_header));
            // The body's allowance depends on the route: checked once the head is in.
            parser.body_limit(boost::none);
            body_allowance allowed{limits.max_body, limits.read_timeout};
            // Wait for the first byte under the idle deadline, then the whole request under
            // the read deadline.
            stream.expires_after(buffer.size() ? limits.read_timeout : limits.idle_timeout);
            auto [header_ec, hn] = co_await http::async_read_header(stream, buffer, parser, as_tuple);
            // A plain variable: assigning to a structured binding across co_await misbehaves
            // under clang 14's coroutine lowering.
            beast::error_code hec = header_ec;
            if (!hec) {
                if (auto refusal = framing_refusal(parser.get())) {
                    co_await reply_status(stream, 400, *refusal);
                    co_return;
                }
                if (limits.larger_body) {
                    auto target = parser.get().target();
                    auto path = target.substr(0, target.find('?'));
                    if (auto larger = limits.larger_body(parser.get().method_string(), {path.data(), path.size()}))
                        allowed = *larger;
                }
                if (parser.content_length() && *parser.content_length() > allowed.max_body) hec = http::error::body_limit;
                else parser.body_limit(allowed.max_body);
            }
            if (!hec && !parser.is_done()) {
                stream.expires_after(allowed.read_timeout);
                auto [body_ec, bn] = co_await http::async_read(stream, buffer, parser, as_tuple);
                hec = body_ec;
            }
            stream.expires_never();
            if (hec == http::error::body_limit) {
                co_await reply_status(stream, 413, too_large_body(allowed.max_body));
                co_return;
            }
            if (hec == http::error::header_limit) {
                co_await reply_status(stream, 431, R"({"error":"request headers too large"})");
                co_return;
            }
            if (hec == http::error::end_of_stream || hec == asio::error::eof ||
                hec == beast::error::timeout || hec == asio::error::operation_aborted ||
                hec == asio::error::connection_reset)
                co_return;
            if (hec) {
                co_await reply_status(stream, 400, R"({"error":"bad request"})");
                co_return;
            }
            handle.busy = true;
            auto& msg = parser.get();
            request req;
            req.method = std::string(msg.method_string());
            req.target = std::string(msg.target());
            auto q = req.target.find('?');
            req.path = percent_decode(std::string_view(req.target).substr(0, q), false);
            if (q != std::string::npos) req.query = req.target.substr(q + 1);
            for (auto& f : msg) {
                std::string name(f.name_string());
                for (auto& c : name) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
                req.headers.emplace_back(std::move(name), std::string(f.value()));
            }
            req.body = std::move(msg.body());
            req.peer = peer;
            req.admin_socket = admin;
            const unsigned version = msg.version();
            const bool keep_alive = msg.keep_alive();
            // What reading the request needed goes now: the parser, the read buffer's room.
            reading.reset();
            if (buffer.size() == 0) buffer.shrink_to_fit();

            session_responder<Stream> r(stream, limits, version, keep_alive);
            co_await on_request(req, r);
            if (!r.finished()) co_await r.send(json_response(500, R"({"error":"no response"})"));
            if (r.streaming()) co_await r.end_stream();
            handle.busy = false;
            if (r.failed() || !r.keep_alive()) co_return;
            {
                std::lock_guard lock(mu);
                if (closing) co_return;
            }
        }
    }

    template <class Stream>
    awaitable<void> reply_status(Stream& stream, int status, std::string body) {
        http::response<http::string_body> res{static_cast<http::status>(status), 11};
        res.set(http::field::server, "chatd");
        res.set(http::field::content_type, "application/json");
        res.keep_alive(false);
        res.body() = std::move(body);
        res.prepare_payload();
        stream.expires_after(limits.write_timeout);
        co_await http::async_write(stream, res, as_tuple);
    }
};

http_server::http_server(asio::io_context& ioc, handler h, server_limits limits,
                         std::vector<asio::io_context*> session_loops)
    : impl_(std::make_shared<impl>(ioc, std::move(h), limits, std::move(session_loops))) {}

http_server::~http_server() { stop_accepting(); }

unsigned short http_server::listen_tcp(const std::string& host, unsigned short port) {
    beast::error_code ec;
    auto addr = asio::ip::make_address(host, ec);
    if (ec) {
        tcp::resolver resolver(impl_->ioc);
        auto results = resolver.resolve(host, std::to_string(port), ec);
        if (ec || results.empty()) throw std::runtime_error("cannot resolve listen host '" + host + "'");
        addr = results.begin()->endpoint().address();
    }
    tcp::endpoint ep(addr, port);
    auto acc = std::make_shared<tcp::acceptor>(impl_->ioc);
    acc->open(ep.protocol());
    acc->set_option(asio::socket_base::reuse_address(true));
    acc->bind(ep, ec);
    if (ec) throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) + ": " + ec.message());
    acc->listen(asio::socket_base::max_listen_connections);
    acc->non_blocking(true);  // accept_loop drains the listen queue without waiting
    impl_->tcp_acceptors.push_back(acc);
    asio::co_spawn(impl_->ioc, impl_->accept_loop(acc, false), asio::detached);
    return acc->local_endpoint().port();
}

void http_server::listen_unix(const std::string& path) {
    namespace fs = std::filesystem;
    std::error_code fec;
    fs::create_directories(fs::path(path).parent_path(), fec);
    // The lock file proves whether another chatd owns the socket: a live owner holds it.
    auto lock = file_lock::try_acquire(path + ".lock");
    if (!lock) throw std::runtime_error("another chatd is running with admin socket " + path);
    impl_->locks.push_back(std::move(*lock));
    ::unlink(path.c_str());  // stale: its owner is gone
    auto acc = std::make_shared<local::acceptor>(impl_->ioc);
    beast::error_code ec;
    acc->open(local::endpoint(path).protocol(), ec);
    // Owner and group only; umask is process-wide, so narrow it just around bind().
    mode_t old = ::umask(0117);
    if (!ec) acc->bind(local::endpoint(path), ec);
    ::umask(old);
    if (ec) throw std::runtime_error("cannot bind admin socket " + path + ": " + ec.message());
    ::chmod(path.c_str(), 0660);
    acc->listen(asio::socket_base::max_listen_connections);
    acc->non_blocking(true);
    impl_->unix_acceptors.push_back(acc);
    impl_->unix_paths.push_back(path);
    asio::co_spawn(impl_->ioc, impl_->accept_loop(acc, true), asio::detached);
}

void http_server::stop_accepting() {
    for (auto& a : impl_->tcp_acceptors) asio::post(a->get_executor(), [a] { beast::error_code ec; a->close(ec); });
    for (auto& a : impl_->unix_acceptors) asio::post(a->get_executor(), [a] { beast::error_code ec; a->close(ec); });
}

void http_server::close_all(bool idle_only) {
    std::vector<std::shared_ptr<connection_handle>> all;
    {
        std::lock_guard lock(impl_->mu);
        impl_->closing = true;
        for (auto& h : impl_->live)
            if (!idle_only || !h->busy) all.push_back(h);
    }
    for (auto& h : all) h->close();
}

std::size_t http_server::connections() const {
    std::lock_guard lock(impl_->mu);
    return impl_->live.size();
}

}  // namespace chatd::net
