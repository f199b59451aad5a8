#pragma once
// One upstream connection (TCP, maybe TLS, maybe through an HTTP CONNECT proxy), how it is
// established, and the pool that keeps idle ones for reuse. The HTTP exchange on top of it is
// upstream_client.cpp's; this header is internal to upstream/.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/read_size.hpp>
#include <boost/beast/core/tcp_stream.hpp>
#include <boost/beast/http/error.hpp>
#include <boost/beast/ssl/ssl_stream.hpp>
#include <chrono>
#include <cstddef>
#include <deque>
#include <map>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <utility>

#include "upstream/upstream_client.hpp"
#include "upstream/url.hpp"
#include "util/cancel.hpp"

namespace chatd::upstream {

inline constexpr std::string_view user_agent = "chatd/" CHATD_VERSION;

// True once `cancel` has fired; a null handle never does.
inline bool aborted(const cancel_ptr& cancel) {
    return cancel && cancel->cancelled();
}

// Where a connection goes once an exchange is over.
enum class disposal {
    drop,    // broken, cancelled or timed out: close at once
    retire,  // finished cleanly but not reusable: close politely
    pool,    // response read to the end with keep-alive
};

// One upstream TCP (and maybe TLS) connection. Everything touching it runs on one event loop
// (one thread): the exchange coroutine, the timeout handlers and the cancel path.
class connection : public std::enable_shared_from_this<connection> {
  public:
    using executor_type = boost::asio::any_io_executor;
    using tcp_stream = boost::beast::tcp_stream;
    using tls_stream = boost::beast::ssl_stream<tcp_stream>;
    using time_point = std::chrono::steady_clock::time_point;

    connection(executor_type loop, std::string key,
               std::shared_ptr<boost::asio::ssl::context> tls_ctx);

    executor_type get_executor() const { return loop_; }
    const std::string& key() const { return key_; }
    boost::asio::ip::tcp::resolver& resolver() { return resolver_; }
    tcp_stream& transport() { return tls_ ? tls_->next_layer() : *plain_; }
    tls_stream* tls() { return tls_ ? &*tls_ : nullptr; }

    // Reads through this connection (the HTTP layer's) end with beast::error::timeout once `at`
    // has passed, closing the connection as Beast's own timeout would. One timer per connection,
    // re-armed only when it fires: a streamed answer reads once per token, and Beast's timeout
    // costs a timer started and cancelled for every read. Writes keep Beast's, which must be
    // off (`transport().expires_never()`) while reading.
    void read_deadline(time_point at);

    // A single stream type for the HTTP layer, so the HTTP code exists once for both schemes.
    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::beast::error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                reading_ = true;
                watch();
                auto done = [this, handler = std::move(handler)](boost::beast::error_code ec,
                                                                 std::size_t n) mutable {
                    reading_ = false;
                    if (ec && timed_out_) ec = boost::beast::error::timeout;
                    std::move(handler)(ec, n);
                };
                if (tls_) {
                    tls_->async_read_some(b, std::move(done));
                } else {
                    plain_->async_read_some(b, std::move(done));
                }
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return boost::asio::async_initiate<Token, void(boost::beast::error_code, std::size_t)>(
            [this](auto handler, const ConstBuffers& b) {
                if (tls_) {
                    tls_->async_write_some(b, std::move(handler));
                } else {
                    plain_->async_write_some(b, std::move(handler));
                }
            },
            token, buffers);
    }

    // Aborts whatever is in flight; the pending operation completes with an error.
    void abort() {
        resolver_.cancel();
        pause_.cancel();
        transport().close();
    }

    // Waits until `at`, or until abort() (whose closed socket then fails the read that follows).
    boost::asio::awaitable<void> pause_until(time_point at);

    // Bytes read but not yet parsed: response headers (at most 64 KiB), a chunk's size line, and
    // read-ahead. Capped, so a chunk size line that never ends fails the read instead of growing.
    static constexpr std::size_t max_buffered = 256 * 1024;
    boost::beast::flat_buffer buffer{max_buffered};  // none left when pooled
    bool read_filled = false;  // the last read from the socket took all the room it had
    bool connected = false;
    std::chrono::steady_clock::time_point idle_since;

  private:
    // Makes sure the watchdog wakes by the read deadline while a read is in flight.
    void watch();

    executor_type loop_;
    std::string key_;
    boost::asio::ip::tcp::resolver resolver_;
    std::shared_ptr<boost::asio::ssl::context> tls_ctx_;
    std::optional<tcp_stream> plain_;
    std::optional<tls_stream> tls_;
    boost::asio::steady_timer watchdog_;
    boost::asio::steady_timer pause_;
    time_point read_deadline_ = time_point::max();
    time_point watched_until_ = time_point::max();  // the watchdog's wake-up, when waiting
    unsigned watch_round_ = 0;  // a wake-up from an earlier round was superseded
    bool watching_ = false;
    bool reading_ = false;
    bool timed_out_ = false;
};

using connection_ptr = std::shared_ptr<connection>;

// One step of reading a response's body into `p` from `c`, as Beast's http::async_read_some
// takes it, except that when what is already buffered suffices it returns at once: Beast posts
// that completion, and a streamed answer takes a step for every token, each post a further
// round of its loop. A read from the socket waits until `not_before`, so that what comes
// meanwhile is taken in one read. Returns what ended the step (need_buffer: the body buffer is
// full).
template <class Parser>
boost::asio::awaitable<boost::beast::error_code> read_some_body(
    connection& c, Parser& p, connection::time_point not_before = connection::time_point::min()) {
    namespace http = boost::beast::http;
    boost::beast::error_code ec;
    if (c.buffer.size() > 0) {
        c.buffer.consume(p.put(c.buffer.data(), ec));
        if (ec != http::error::need_more) co_return ec;
    }
    for (;;) {
        const auto size = boost::beast::read_size(c.buffer, 65536);
        if (size == 0) co_return http::error::buffer_overflow;
        // A read that filled its room may have left more in the socket: that is taken at once.
        if (!c.read_filled && not_before != connection::time_point::min() &&
            std::chrono::steady_clock::now() < not_before)
            co_await c.pause_until(not_before);
        auto [read_ec, n] = co_await c.async_read_some(c.buffer.prepare(size),
                                                       boost::asio::as_tuple(boost::asio::use_awaitable));
        c.buffer.commit(n);
        c.read_filled = n == size;
        if (read_ec == boost::asio::error::eof) {
            if (!p.got_some()) co_return http::error::end_of_stream;
            ec = {};
            p.put_eof(ec);  // a body that ends with the connection
            co_return ec;
        }
        if (read_ec) co_return read_ec;
        c.buffer.consume(p.put(c.buffer.data(), ec));
        if (ec != http::error::need_more) co_return ec;
    }
}

struct connect_failure {
    outcome::kind what;
    std::string message;
};

// A client context that verifies peers against the system store plus `ca_file` (if any).
std::shared_ptr<boost::asio::ssl::context> make_tls_context(const std::string& ca_file);

// DNS, TCP, the proxy tunnel and the TLS handshake, all under one deadline.
boost::asio::awaitable<std::optional<connect_failure>> establish(
    connection_ptr c, url dest, std::optional<url> proxy,
    std::chrono::steady_clock::time_point deadline, cancel_ptr cancel);

// Idle keep-alive connections by destination (and proxy). Thread-safe.
class connection_pool {
  public:
    static std::string key(const url& dest, const std::optional<url>& proxy);

    void set_max_idle_per_host(std::size_t n);
    // The most recently pooled live connection for `key`, or null.
    connection_ptr take(const std::string& key);
    // Pools, closes politely or drops `c`, as `how` says and room allows.
    void put_back(connection_ptr c, disposal how);

  private:
    std::mutex mu_;
    std::size_t max_idle_per_host_ = 0;                       // guarded by mu_
    std::map<std::string, std::deque<connection_ptr>> idle_;  // guarded by mu_
};

}  // namespace chatd::upstream
