#include "upstream/connection.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl/host_name_verification.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <charconv>
#include <vector>

#include "upstream/error_reply.hpp"

namespace chatd::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t proxy_reply_cap = 16 * 1024;
constexpr auto tls_shutdown_limit = 2s;
// Providers close idle keep-alive connections after tens of seconds; older ones are more
// likely dead than alive and would only cost a failed round trip.
constexpr auto idle_max_age = 30s;
constexpr auto dns_cache_ttl = std::chrono::seconds(60);

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

struct dns_entry {
    std::vector<tcp::endpoint> endpoints;
    steady::time_point expires;
};

std::mutex dns_mu;
std::map<std::string, dns_entry> dns_cache;

std::vector<tcp::endpoint> cached_endpoints(const std::string& host, unsigned short port) {
    beast::error_code ec;
    auto literal = asio::ip::make_address(host, ec);
    if (!ec) return {tcp::endpoint(literal, port)};
    std::lock_guard lock(dns_mu);
    auto it = dns_cache.find(host + ":" + std::to_string(port));
    if (it == dns_cache.end() || it->second.expires <= steady::now()) return {};
    return it->second.endpoints;
}

void remember_endpoints(const std::string& host, unsigned short port,
                        const std::vector<tcp::endpoint>& endpoints) {
    if (endpoints.empty()) return;
    std::lock_guard lock(dns_mu);
    if (dns_cache.size() > 1024) dns_cache.clear();
    dns_cache[host + ":" + std::to_string(port)] = {endpoints, steady::now() + dns_cache_ttl};
}

asio::awaitable<void> close_politely(connection_ptr c) {
    if (auto* s = c->tls()) {
        c->transport().expires_after(tls_shutdown_limit);
        // Peers that just close instead of answering close_notify give stream_truncated;
        // the connection is going away either way.
        co_await s->async_shutdown(use_tuple);
    }
    c->transport().close();
}

}  // namespace

connection::connection(executor_type loop, std::string key, std::shared_ptr<ssl::context> tls_ctx)
    : loop_(std::move(loop)),
      key_(std::move(key)),
      resolver_(loop_),
      tls_ctx_(std::move(tls_ctx)),
      watchdog_(loop_),
      pause_(loop_) {
    if (tls_ctx_) {
        tls_.emplace(loop_, *tls_ctx_);
    } else {
        plain_.emplace(loop_);
    }
}

void connection::read_deadline(time_point at) {
    read_deadline_ = at;
    timed_out_ = false;
}

void connection::watch() {
    if (read_deadline_ == time_point::max()) return;
    if (watching_ && watched_until_ <= read_deadline_) return;  // it wakes in time and looks again
    watching_ = true;
    watched_until_ = read_deadline_;
    const unsigned round = ++watch_round_;
    watchdog_.expires_at(read_deadline_);
    watchdog_.async_wait([weak = weak_from_this(), round](beast::error_code ec) {
        auto self = weak.lock();
        if (!self || self->watch_round_ != round) return;
        self->watching_ = false;
        if (ec || !self->reading_) return;
        if (steady::now() < self->read_deadline_) return self->watch();
        self->timed_out_ = true;
        self->abort();
    });
}

asio::awaitable<void> connection::pause_until(time_point at) {
    if (!transport().socket().is_open()) co_return;  // aborted: the read that follows fails at once
    pause_.expires_at(at);
    co_await pause_.async_wait(use_tuple);
}

std::shared_ptr<ssl::context> make_tls_context(const std::string& ca_file) {
    auto ctx = std::make_shared<ssl::context>(ssl::context::tls_client);
    ctx->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                     ssl::context::no_sslv3 | ssl::context::no_tlsv1 | ssl::context::no_tlsv1_1);
    boost::system::error_code ec;
    ctx->set_default_verify_paths(ec);
    if (ec) spdlog::warn("upstream: system CA store unavailable: {}", ec.message());
    if (!ca_file.empty()) {
        ctx->load_verify_file(ca_file, ec);
        if (ec) spdlog::error("upstream: cannot load CA file {}: {}", ca_file, ec.message());
    }
    ctx->set_verify_mode(ssl::verify_peer);
    return ctx;
}

asio::awaitable<std::optional<connect_failure>> establish(connection_ptr c, url dest,
                                                          std::optional<url> proxy,
                                                          steady::time_point deadline,
                                                          cancel_ptr cancel) {
    const url& hop = proxy ? *proxy : dest;
    auto fail = [&](const beast::error_code& ec,
                    std::string what) -> std::optional<connect_failure> {
        if (aborted(cancel)) return connect_failure{outcome::kind::cancelled, "cancelled"};
        if (ec == beast::error::timeout || steady::now() >= deadline)
            return connect_failure{outcome::kind::timeout_connect, what + ": timed out"};
        return connect_failure{outcome::kind::connect_failed, what + ": " + ec.message()};
    };

    // Asio resolves on one background thread per io_context, so a burst of new connections
    // would queue behind each other there: IP literals skip it and names are cached briefly.
    auto endpoints = cached_endpoints(hop.host, hop.port);
    if (endpoints.empty()) {
        // The resolver has no deadline of its own; a timer on the same loop cancels it.
        asio::steady_timer dns_deadline(c->get_executor());
        dns_deadline.expires_at(deadline);
        dns_deadline.async_wait([weak = std::weak_ptr<connection>(c)](beast::error_code ec) {
            if (ec) return;
            if (auto conn = weak.lock()) conn->resolver().cancel();
        });
        auto [rec, results] =
            co_await c->resolver().async_resolve(hop.host, std::to_string(hop.port), use_tuple);
        dns_deadline.cancel();
        if (rec) co_return fail(rec, "resolving " + hop.host);
        for (const auto& r : results) endpoints.push_back(r.endpoint());
        remember_endpoints(hop.host, hop.port, endpoints);
    }
    if (aborted(cancel)) co_return connect_failure{outcome::kind::cancelled, "cancelled"};

    c->transport().expires_at(deadline);
    auto [cec, endpoint] = co_await c->transport().async_connect(endpoints, use_tuple);
    if (cec) co_return fail(cec, "connecting to " + hop.authority());
    beast::error_code opt_ec;
    c->transport().socket().set_option(tcp::no_delay(true), opt_ec);

    if (proxy) {
        const std::string where = dest.authority();
        std::string head = "CONNECT " + where + " HTTP/1.1\r\nHost: " + where +
                           "\r\nUser-Agent: " + std::string(user_agent) + "\r\n\r\n";
        auto [wec, written] =
            co_await asio::async_write(c->transport(), asio::buffer(head), use_tuple);
        if (wec) co_return fail(wec, "proxy " + hop.authority());
        std::string reply;
        auto [pec, head_len] = co_await asio::async_read_until(
            c->transport(), asio::dynamic_buffer(reply, proxy_reply_cap), "\r\n\r\n", use_tuple);
        if (pec) co_return fail(pec, "proxy " + hop.authority());
        int status = 0;
        if (reply.size() >= 12 && reply.starts_with("HTTP/1.")) {
            std::from_chars(reply.data() + 9, reply.data() + 12, status);
        }
        if (status < 200 || status > 299) {
            co_return connect_failure{outcome::kind::connect_failed,
                                      "proxy " + hop.authority() + " refused CONNECT " + where +
                                          ": " + excerpt(reply.substr(0, reply.find("\r\n")))};
        }
        if (reply.size() > head_len) {
            if (c->tls()) {
                co_return connect_failure{
                    outcome::kind::connect_failed,
                    "proxy " + hop.authority() + " sent data before the tunnel"};
            }
            auto extra = std::string_view(reply).substr(head_len);
            c->buffer.commit(asio::buffer_copy(c->buffer.prepare(extra.size()),
                                               asio::buffer(extra.data(), extra.size())));
        }
    }

    if (auto* s = c->tls()) {
        // SNI carries host names only (RFC 6066); certificates for IPs are checked all the same.
        if (!is_ip_literal(dest.host))
            SSL_set_tlsext_host_name(s->native_handle(), dest.host.c_str());
        s->set_verify_mode(ssl::verify_peer);
        s->set_verify_callback(ssl::host_name_verification(dest.host));
        c->transport().expires_at(deadline);
        auto [hec] = co_await s->async_handshake(ssl::stream_base::client, use_tuple);
        if (hec) co_return fail(hec, "TLS handshake with " + dest.host);
    }
    if (aborted(cancel)) co_return connect_failure{outcome::kind::cancelled, "cancelled"};
    c->connected = true;
    co_return std::nullopt;
}

std::string connection_pool::key(const url& dest, const std::optional<url>& proxy) {
    std::string key = dest.scheme + "://" + dest.authority();
    if (proxy) key += " via " + proxy->authority();
    return key;
}

void connection_pool::set_max_idle_per_host(std::size_t n) {
    std::lock_guard lock(mu_);
    max_idle_per_host_ = n;
}

connection_ptr connection_pool::take(const std::string& key) {
    // Expired connections are closed here, after the lock is released.
    std::deque<connection_ptr> expired;
    connection_ptr found;
    {
        std::lock_guard lock(mu_);
        auto it = idle_.find(key);
        if (it == idle_.end()) return nullptr;
        auto& list = it->second;
        const auto now = steady::now();
        while (!list.empty() && now - list.front()->idle_since > idle_max_age) {
            expired.push_back(std::move(list.front()));
            list.pop_front();
        }
        if (!list.empty()) {
            found = std::move(list.back());
            list.pop_back();
        }
        if (list.empty()) idle_.erase(it);
    }
    return found;
}

void connection_pool::put_back(connection_ptr c, disposal how) {
    if (how == disposal::pool) {
        std::lock_guard lock(mu_);
        auto& list = idle_[c->key()];
        if (list.size() < max_idle_per_host_) {
            c->idle_since = steady::now();
            list.push_back(std::move(c));
            return;
        }
        if (list.empty()) idle_.erase(c->key());
        how = disposal::retire;
    }
    if (how == disposal::retire && c->tls()) {
        auto loop = c->get_executor();
        asio::co_spawn(loop, close_politely(std::move(c)), asio::detached);
    }
}

}  // namespace chatd::upstream
