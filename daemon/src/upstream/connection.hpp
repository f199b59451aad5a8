#pragma once
// One upstream connection (TCP, maybe TLS, maybe through an HTTP CONNECT proxy), how it is
// established, and the pool that keeps idle ones for reuse. The HTTP exchange on top of it is
// upstream_client.cpp's; this header is internal to upstream/.
#include <boost/asio/any_io_executor.hpp>
#include <boost/asio/async_result.hpp>
#include <boost/asio/awaitable.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/ssl/context.hpp>
#include <boost/beast/core/flat_buffer.hpp>
#include <boost/beast/core/tcp_stream.hpp>
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

// One upstream TCP (and maybe TLS) connection. Everything touching it runs on its own strand:
// the exchange coroutine, Beast's timeout handler and the cancel path all share it.
class connection {
  public:
    using executor_type = boost::asio::any_io_executor;
    using tcp_stream = boost::beast::tcp_stream;
    using tls_stream = boost::beast::ssl_stream<tcp_stream>;

    connection(executor_type strand, std::string key,
               std::shared_ptr<boost::asio::ssl::context> tls_ctx);

    executor_type get_executor() const { return strand_; }
    const std::string& key() const { return key_; }
    boost::asio::ip::tcp::resolver& resolver() { return resolver_; }
    tcp_stream& transport() { return tls_ ? tls_->next_layer() : *plain_; }
    tls_stream* tls() { return tls_ ? &*tls_ : nullptr; }

    // A single stream type for the HTTP layer, so the HTTP code exists once for both schemes.
    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return initiate(buffers, std::forward<Token>(token),
                        [](auto& stream, const auto& b, auto&& handler) {
                            stream.async_read_some(b, std::move(handler));
                        });
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return initiate(buffers, std::forward<Token>(token),
                        [](auto& stream, const auto& b, auto&& handler) {
                            stream.async_write_some(b, std::move(handler));
                        });
    }

    // Aborts whatever is in flight; the pending operation completes with an error.
    void abort() {
        resolver_.cancel();
        transport().close();
    }

    // Bytes read but not yet parsed: response headers (at most 64 KiB), a chunk's size line, and
    // read-ahead. Capped, so a chunk size line that never ends fails the read instead of growing.
    static constexpr std::size_t max_buffered = 256 * 1024;
    boost::beast::flat_buffer buffer{max_buffered};  // none left when pooled
    bool connected = false;
    std::chrono::steady_clock::time_point idle_since;

  private:
    // Starts `op(stream, buffers, handler)` on whichever stream this connection has.
    template <class Buffers, class Token, class Op>
    auto initiate(const Buffers& buffers, Token&& token, Op op) {
        return boost::asio::async_initiate<Token, void(boost::beast::error_code, std::size_t)>(
            [this, op](auto handler, const Buffers& b) {
                if (tls_) {
                    op(*tls_, b, std::move(handler));
                } else {
                    op(*plain_, b, std::move(handler));
                }
            },
            token, buffers);
    }

    executor_type strand_;
    std::string key_;
    boost::asio::ip::tcp::resolver resolver_;
    std::shared_ptr<boost::asio::ssl::context> tls_ctx_;
    std::optional<tcp_stream> plain_;
    std::optional<tls_stream> tls_;
};

using connection_ptr = std::shared_ptr<connection>;

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
