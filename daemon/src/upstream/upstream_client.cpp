#include "upstream/upstream_client.hpp"

#include <openssl/ssl.h>
#include <spdlog/spdlog.h>

#include <algorithm>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/ip/tcp.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/read_until.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/strand.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/asio/write.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/ssl.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>
#include <deque>
#include <limits>
#include <map>
#include <mutex>

#include "upstream/sse_parser.hpp"
#include "upstream/url.hpp"

namespace chatd::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t error_body_cap = 64 * 1024;
constexpr std::size_t request_body_cap = 4 * 1024 * 1024;
constexpr std::uint32_t header_cap = 64 * 1024;
constexpr std::size_t proxy_reply_cap = 16 * 1024;
constexpr std::size_t read_chunk = 16 * 1024;
// After [DONE] only the chunked terminator should be left; waiting longer for it is not worth
// holding the caller, the connection is simply not reused then.
constexpr auto done_drain_limit = 1s;
constexpr auto tls_shutdown_limit = 2s;
// Providers close idle keep-alive connections after tens of seconds; older ones are more
// likely dead than alive and would only cost a failed round trip.
constexpr auto idle_max_age = 30s;

constexpr std::string_view user_agent = "chatd/" CHATD_VERSION;

std::string mask_key(std::string_view key) {
    std::string out;
    if (auto dash = key.find('-'); dash != std::string_view::npos && dash < 6)
        out.assign(key.substr(0, dash + 1));
    out += "…";
    if (key.size() >= 12) out.append(key.substr(key.size() - 4));
    return out;
}

std::string ascii_lower(std::string_view s) {
    std::string out(s);
    for (auto& c : out) {
        if (c >= 'A' && c <= 'Z') c = static_cast<char>(c - 'A' + 'a');
    }
    return out;
}

std::string excerpt(std::string_view s, std::size_t n = 200) {
    if (s.size() <= n) return std::string(s);
    return std::string(s.substr(0, n)) + "…";
}

bool is_ip_literal(const std::string& host) {
    boost::system::error_code ec;
    asio::ip::make_address(host, ec);
    return !ec;
}

std::optional<int> parse_retry_after(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    int seconds = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || seconds < 0)
        return std::nullopt;
    return seconds;
}

std::string json_text(const json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_null()) return {};
    return json::serialize(v);
}

// Fills error_* from the value of an "error" member, which is an object in the OpenAI shape
// and a bare string with some compatible servers.
void take_error(const json::value& err, outcome& out) {
    if (err.is_string()) {
        out.error_message = std::string(err.get_string());
        return;
    }
    if (!err.is_object()) return;
    const auto& o = err.get_object();
    if (const auto* m = o.if_contains("message")) out.error_message = json_text(*m);
    if (const auto* t = o.if_contains("type")) out.error_type = json_text(*t);
    if (const auto* c = o.if_contains("code")) out.error_code = json_text(*c);
}

// True when `body` is a JSON object carrying an "error"; the fields land in `out`.
bool take_error_body(std::string_view body, outcome& out) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return false;
    const auto* err = v.get_object().if_contains("error");
    if (!err || err->is_null()) return false;
    take_error(*err, out);
    return true;
}

int to_int(const json::value* v) {
    constexpr int int_max = std::numeric_limits<int>::max();
    if (!v) return 0;
    if (v->is_int64())
        return static_cast<int>(std::clamp<std::int64_t>(v->get_int64(), 0, int_max));
    if (v->is_uint64()) return static_cast<int>(std::min<std::uint64_t>(v->get_uint64(), int_max));
    if (v->is_double()) return static_cast<int>(std::clamp(v->get_double(), 0.0, double{int_max}));
    return 0;
}

bool is_http_error(const beast::error_code& ec) {
    return ec.category() == beast::http::make_error_code(http::error::bad_target).category();
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
    using executor_type = asio::any_io_executor;

    connection(executor_type strand, std::string key, std::shared_ptr<ssl::context> tls_ctx)
        : strand_(std::move(strand)),
          key_(std::move(key)),
          resolver_(strand_),
          tls_ctx_(std::move(tls_ctx)) {
        if (tls_ctx_) {
            tls_.emplace(strand_, *tls_ctx_);
        } else {
            plain_.emplace(strand_);
        }
    }

    executor_type get_executor() const { return strand_; }
    const std::string& key() const { return key_; }
    tcp::resolver& resolver() { return resolver_; }
    beast::tcp_stream& transport() { return tls_ ? tls_->next_layer() : *plain_; }
    beast::ssl_stream<beast::tcp_stream>* tls() { return tls_ ? &*tls_ : nullptr; }

    // A single stream type for the HTTP layer, so the HTTP code exists once for both schemes.
    template <class MutableBuffers, class Token>
    auto async_read_some(const MutableBuffers& buffers, Token&& token) {
        return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
            [this](auto handler, const MutableBuffers& b) {
                if (tls_) {
                    tls_->async_read_some(b, std::move(handler));
                } else {
                    plain_->async_read_some(b, std::move(handler));
                }
            },
            token, buffers);
    }

    template <class ConstBuffers, class Token>
    auto async_write_some(const ConstBuffers& buffers, Token&& token) {
        return asio::async_initiate<Token, void(beast::error_code, std::size_t)>(
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
        transport().close();
    }

    beast::flat_buffer buffer;  // bytes read past the current response (none when pooled)
    bool connected = false;
    steady::time_point idle_since;

  private:
    executor_type strand_;
    std::string key_;
    tcp::resolver resolver_;
    std::shared_ptr<ssl::context> tls_ctx_;
    std::optional<beast::tcp_stream> plain_;
    std::optional<beast::ssl_stream<beast::tcp_stream>> tls_;
};

using connection_ptr = std::shared_ptr<connection>;

// Links a cancel_handle to one attempt. The callback may fire on any thread, so it only posts
// to the connection's strand; once the attempt is over the connection may already serve
// someone else from the pool, which `finished` (touched only on the strand) protects.
struct cancel_link {
    asio::any_io_executor strand;
    std::weak_ptr<connection> conn;
    bool finished = false;

    static std::shared_ptr<cancel_link> attach(const cancel_ptr& cancel, const connection_ptr& c) {
        auto link = std::make_shared<cancel_link>();
        link->strand = c->get_executor();
        link->conn = c;
        if (cancel) {
            cancel->on_cancel([link] {
                asio::post(link->strand, [link] {
                    if (link->finished) return;
                    if (auto conn = link->conn.lock()) conn->abort();
                });
            });
        }
        return link;
    }
};

struct link_finisher {
    std::shared_ptr<cancel_link> link;
    ~link_finisher() { link->finished = true; }
};

struct failure {
    outcome::kind what;
    std::string message;
};

struct settings {
    client_options opts;
    std::shared_ptr<ssl::context> tls;
    std::optional<url> proxy;
    bool proxy_invalid = false;
};

template <class T>
struct attempt_result {
    T value{};
    bool stale = false;  // a pooled connection died before answering: worth one fresh try
    disposal after = disposal::drop;
};

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

std::string pool_key(const url& dest, const std::optional<url>& proxy) {
    std::string key = dest.scheme + "://" + dest.authority();
    if (proxy) key += " via " + proxy->authority();
    return key;
}

bool aborted(const cancel_ptr& cancel) {
    return cancel && cancel->cancelled();
}

constexpr auto dns_cache_ttl = std::chrono::seconds(60);

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

// DNS, TCP, the proxy tunnel and the TLS handshake, all under one deadline.
asio::awaitable<std::optional<failure>> establish(connection_ptr c, url dest,
                                                  std::optional<url> proxy,
                                                  steady::time_point deadline, cancel_ptr cancel) {
    const url& hop = proxy ? *proxy : dest;
    auto fail = [&](const beast::error_code& ec, std::string what) -> std::optional<failure> {
        if (aborted(cancel)) return failure{outcome::kind::cancelled, "cancelled"};
        if (ec == beast::error::timeout || steady::now() >= deadline)
            return failure{outcome::kind::timeout_connect, what + ": timed out"};
        return failure{outcome::kind::connect_failed, what + ": " + ec.message()};
    };

    // Asio resolves on one background thread per io_context, so a burst of new connections
    // would queue behind each other there: IP literals skip it and names are cached briefly.
    auto endpoints = cached_endpoints(hop.host, hop.port);
    if (endpoints.empty()) {
        // The resolver has no deadline of its own; a timer on the same strand cancels it.
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
    if (aborted(cancel)) co_return failure{outcome::kind::cancelled, "cancelled"};

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
            co_return failure{outcome::kind::connect_failed,
                              "proxy " + hop.authority() + " refused CONNECT " + where + ": " +
                                  excerpt(reply.substr(0, reply.find("\r\n")))};
        }
        if (reply.size() > head_len) {
            if (c->tls()) {
                co_return failure{outcome::kind::connect_failed,
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
    if (aborted(cancel)) co_return failure{outcome::kind::cancelled, "cancelled"};
    c->connected = true;
    co_return std::nullopt;
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

using response_parser = http::response_parser<http::buffer_body>;

// Reads the rest of a body into `out`, keeping at most `cap` bytes. Each read is bounded by
// `per_read` and the whole by `hard_deadline`. Returns what ended it: nothing when the message
// is complete, body_limit when the cap was reached, otherwise the read error.
asio::awaitable<beast::error_code> read_body(connection& c, response_parser& p, std::string& out,
                                             std::size_t cap, steady::duration per_read,
                                             steady::time_point hard_deadline) {
    std::string chunk(read_chunk, '\0');
    while (!p.is_done()) {
        p.get().body().data = chunk.data();
        p.get().body().size = chunk.size();
        c.transport().expires_at(std::min(steady::now() + per_read, hard_deadline));
        auto [read_ec, n] = co_await http::async_read_some(c, c.buffer, p, use_tuple);
        // A plain copy: assigning to a structured binding across co_await misbehaves under
        // clang 14's coroutine lowering.
        beast::error_code ec = read_ec;
        const std::size_t got = chunk.size() - p.get().body().size;
        const std::size_t room = cap - out.size();
        out.append(chunk.data(), std::min(got, room));
        if (got > room) co_return http::error::body_limit;
        if (ec == ssl::error::stream_truncated && p.need_eof()) {
            // A TLS peer that ends a close-delimited body without close_notify: the body is
            // as complete as it will get, and callers check its content anyway.
            p.put_eof(ec);
        }
        if (ec && ec != http::error::need_buffer) co_return ec;
    }
    co_return beast::error_code{};
}

disposal after_complete(connection& c, const response_parser& p) {
    c.transport().expires_never();
    if (p.is_done() && p.keep_alive() && c.buffer.size() == 0) return disposal::pool;
    return disposal::retire;
}

void record_head(const response_parser& p, int& status, std::optional<int>& retry_after) {
    status = static_cast<int>(p.get().result_int());
    if (auto it = p.get().find(http::field::retry_after); it != p.get().end())
        retry_after = parse_retry_after(std::string_view(it->value().data(), it->value().size()));
}

struct chat_job {
    url dest;
    std::optional<url> proxy;
    std::string masked_key;
    http::request<http::string_body> req;
    delta_fn on_delta;
    cancel_ptr cancel;
};

struct stream_state {
    bool done = false;    // [DONE] seen
    bool failed = false;  // an error event or a malformed chunk ended the stream
};

void on_stream_event(const sse_event& ev, outcome& out, stream_state& st,
                     const delta_fn& on_delta) {
    if (st.done || st.failed) return;
    if (ev.data == "[DONE]") {
        st.done = true;
        return;
    }
    boost::system::error_code ec;
    auto v = json::parse(ev.data, ec);
    if (ec || !v.is_object()) {
        out.what = outcome::kind::malformed;
        out.error_message = "unparseable stream chunk: " + excerpt(ev.data);
        st.failed = true;
        return;
    }
    const auto& obj = v.get_object();
    if (const auto* err = obj.if_contains("error"); err && !err->is_null()) {
        out.what = outcome::kind::http_error;
        take_error(*err, out);
        if (out.error_message.empty()) out.error_message = "error event in the stream";
        st.failed = true;
        return;
    }
    if (const auto* u = obj.if_contains("usage"); u && u->is_object()) {
        const auto& uo = u->get_object();
        out.tokens = usage{to_int(uo.if_contains("prompt_tokens")),
                           to_int(uo.if_contains("completion_tokens"))};
    }
    const auto* choices = obj.if_contains("choices");
    if (!choices || !choices->is_array() || choices->get_array().empty()) return;
    const auto& first = choices->get_array().front();
    if (!first.is_object()) return;
    if (const auto* delta = first.get_object().if_contains("delta"); delta && delta->is_object()) {
        const auto* content = delta->get_object().if_contains("content");
        if (content && content->is_string() && !content->get_string().empty()) {
            out.got_delta = true;
            const auto& s = content->get_string();
            if (on_delta) on_delta(std::string_view(s.data(), s.size()));
        }
    }
    if (const auto* fin = first.get_object().if_contains("finish_reason");
        fin && fin->is_string()) {
        out.finish_reason = std::string(fin->get_string());
    }
}

asio::awaitable<attempt_result<outcome>> chat_attempt(connection_ptr c,
                                                      std::shared_ptr<chat_job> job,
                                                      client_options opts, bool reused) {
    attempt_result<outcome> r;
    outcome& out = r.value;
    link_finisher finish{cancel_link::attach(job->cancel, c)};
    const auto& cancel = job->cancel;

    auto cancelled = [&] {
        out.what = outcome::kind::cancelled;
        out.error_message = "cancelled";
        return r;
    };
    auto fail = [&](outcome::kind k, std::string message) {
        out.what = k;
        out.error_message = std::move(message);
        return r;
    };

    if (!c->connected) {
        auto deadline = steady::now() + opts.connect_timeout;
        if (auto f = co_await establish(c, job->dest, job->proxy, deadline, cancel)) {
            co_return fail(f->what, std::move(f->message));
        }
    }

    const auto first_byte_deadline = steady::now() + opts.first_byte_timeout;
    c->transport().expires_at(first_byte_deadline);
    auto [wec, written] = co_await http::async_write(*c, job->req, use_tuple);
    if (aborted(cancel)) co_return cancelled();
    if (wec == beast::error::timeout)
        co_return fail(outcome::kind::timeout_first_byte, "sending the request: timed out");
    if (wec && reused) {
        r.stale = true;
        co_return r;
    }
    if (wec) co_return fail(outcome::kind::dropped, "sending the request: " + wec.message());

    response_parser p;
    p.header_limit(header_cap);
    p.body_limit(boost::none);
    c->transport().expires_at(first_byte_deadline);
    auto [hec, head_len] = co_await http::async_read_header(*c, c->buffer, p, use_tuple);
    if (aborted(cancel)) co_return cancelled();
    if (hec == beast::error::timeout)
        co_return fail(outcome::kind::timeout_first_byte, "no response headers in time");
    if (hec && reused && !p.got_some() && c->buffer.size() == 0) {
        r.stale = true;
        co_return r;
    }
    if (hec && is_http_error(hec) && hec != http::error::end_of_stream &&
        hec != http::error::partial_message) {
        co_return fail(outcome::kind::malformed, "bad response head: " + hec.message());
    }
    if (hec) co_return fail(outcome::kind::dropped, "reading the response: " + hec.message());

    record_head(p, out.http_status, out.retry_after_s);
    const auto& head = p.get();

    if (out.http_status < 200 || out.http_status > 299) {
        std::string body;
        auto ec = co_await read_body(*c, p, body, error_body_cap, opts.idle_timeout,
                                     steady::time_point::max());
        if (aborted(cancel)) co_return cancelled();
        out.what = outcome::kind::http_error;
        if (!take_error_body(body, out) || out.error_message.empty()) {
            out.error_message = "HTTP " + std::to_string(out.http_status) +
                                (body.empty() ? "" : ": " + excerpt(body));
        }
        if (!ec) r.after = after_complete(*c, p);
        co_return r;
    }

    auto content_type = ascii_lower(std::string_view(head[http::field::content_type]));
    if (!content_type.starts_with("text/event-stream")) {
        std::string body;
        auto ec = co_await read_body(*c, p, body, error_body_cap, opts.idle_timeout,
                                     steady::time_point::max());
        if (aborted(cancel)) co_return cancelled();
        out.what = outcome::kind::malformed;
        if (!take_error_body(body, out) || out.error_message.empty()) {
            out.error_message =
                "expected text/event-stream, got " +
                (content_type.empty() ? std::string("no Content-Type") : content_type);
        }
        if (!ec) r.after = after_complete(*c, p);
        co_return r;
    }

    sse_parser sse;
    stream_state st;
    auto handle = [&](const sse_event& ev) { on_stream_event(ev, out, st, job->on_delta); };
    std::string chunk(read_chunk, '\0');
    bool any_body = false;
    beast::error_code ec;
    while (!p.is_done() && !st.done && !st.failed) {
        p.get().body().data = chunk.data();
        p.get().body().size = chunk.size();
        // Some providers send the headers at once and only then wait for the model, so the
        // first-byte allowance also covers the wait for the first body bytes.
        c->transport().expires_after(any_body ? opts.idle_timeout : opts.first_byte_timeout);
        auto [rec, n] = co_await http::async_read_some(*c, c->buffer, p, use_tuple);
        if (aborted(cancel)) co_return cancelled();
        std::size_t got = chunk.size() - p.get().body().size;
        if (got > 0) {
            any_body = true;
            if (!sse.feed(std::string_view(chunk.data(), got), handle) && !st.failed) {
                co_return fail(outcome::kind::malformed, "stream line too long");
            }
        }
        if (rec && rec != http::error::need_buffer) {
            ec = rec;
            break;
        }
    }
    if (st.failed) co_return r;

    if (st.done) {
        // The stream is complete; only the end of the HTTP message decides about reuse.
        std::string rest;
        auto drain_ec =
            co_await read_body(*c, p, rest, 0, done_drain_limit, steady::time_point::max());
        if (aborted(cancel)) co_return cancelled();
        out.what = outcome::kind::ok;
        if (!drain_ec) r.after = after_complete(*c, p);
        co_return r;
    }

    if (ec == beast::error::timeout) {
        co_return fail(any_body ? outcome::kind::timeout_idle : outcome::kind::timeout_first_byte,
                       any_body ? "stream stalled" : "no stream data in time");
    }
    if (ec && is_http_error(ec) && ec != http::error::end_of_stream &&
        ec != http::error::partial_message) {
        co_return fail(outcome::kind::malformed, "bad response body: " + ec.message());
    }
    // Some providers end with a finish_reason and close, never sending [DONE].
    if (!out.finish_reason.empty()) {
        out.what = outcome::kind::ok;
        if (!ec) r.after = after_complete(*c, p);
        co_return r;
    }
    co_return fail(outcome::kind::dropped, ec ? "connection lost mid-stream: " + ec.message()
                                              : std::string("stream ended without [DONE]"));
}

struct plain_job {
    url dest;
    std::optional<url> proxy;
    http::request<http::string_body> req;
    steady::time_point deadline;
    std::chrono::milliseconds timeout;
};

asio::awaitable<attempt_result<http_response>> plain_attempt(connection_ptr c,
                                                             std::shared_ptr<plain_job> job,
                                                             client_options opts, bool reused) {
    attempt_result<http_response> r;
    http_response& out = r.value;
    auto describe = [&](const beast::error_code& ec, std::string_view what) {
        if (ec == beast::error::timeout || steady::now() >= job->deadline)
            return std::string(what) + ": timed out after " + std::to_string(job->timeout.count()) +
                   " ms";
        return std::string(what) + ": " + ec.message();
    };

    if (!c->connected) {
        auto deadline = std::min(steady::now() + opts.connect_timeout, job->deadline);
        if (auto f = co_await establish(c, job->dest, job->proxy, deadline, nullptr)) {
            out.error = std::move(f->message);
            co_return r;
        }
    }

    c->transport().expires_at(job->deadline);
    auto [wec, written] = co_await http::async_write(*c, job->req, use_tuple);
    if (wec && wec != beast::error::timeout && reused) {
        r.stale = true;
        co_return r;
    }
    if (wec) {
        out.error = describe(wec, "sending the request");
        co_return r;
    }

    response_parser p;
    p.header_limit(header_cap);
    p.body_limit(boost::none);
    if (job->req.method() == http::verb::head) p.skip(true);
    c->transport().expires_at(job->deadline);
    auto [hec, head_len] = co_await http::async_read_header(*c, c->buffer, p, use_tuple);
    if (hec && hec != beast::error::timeout && reused && !p.got_some() && c->buffer.size() == 0) {
        r.stale = true;
        co_return r;
    }
    if (hec) {
        out.error = describe(hec, "reading the response");
        co_return r;
    }
    record_head(p, out.status, out.retry_after_s);

    auto ec = co_await read_body(*c, p, out.body, request_body_cap, job->timeout, job->deadline);
    if (ec == http::error::body_limit) {
        out.error = "response body larger than " + std::to_string(request_body_cap) + " bytes";
    } else if (ec) {
        out.error = describe(ec, "reading the response body");
    } else {
        r.after = after_complete(*c, p);
    }
    co_return r;
}

}  // namespace

struct client::impl {
    impl(asio::any_io_executor executor, client_options o) : ex(std::move(executor)) {
        apply(std::move(o));
    }

    asio::any_io_executor ex;
    std::mutex mu;
    settings current;                                        // guarded by mu
    std::map<std::string, std::deque<connection_ptr>> idle;  // guarded by mu

    void apply(client_options o) {
        settings next;
        if (!o.proxy.empty()) {
            next.proxy = parse_proxy(o.proxy);
            next.proxy_invalid = !next.proxy;
            if (!next.proxy) spdlog::error("upstream: proxy '{}' is not http://host:port", o.proxy);
        }
        std::lock_guard lock(mu);
        next.tls = current.tls && current.opts.ca_file == o.ca_file ? current.tls
                                                                    : make_tls_context(o.ca_file);
        next.opts = std::move(o);
        current = std::move(next);
    }

    settings snapshot() {
        std::lock_guard lock(mu);
        return current;
    }

    connection_ptr take_idle(const std::string& key) {
        std::deque<connection_ptr> expired;
        connection_ptr found;
        {
            std::lock_guard lock(mu);
            auto it = idle.find(key);
            if (it == idle.end()) return nullptr;
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
            if (list.empty()) idle.erase(it);
        }
        return found;
    }

    void dispose(connection_ptr c, disposal how) {
        if (how == disposal::pool) {
            std::lock_guard lock(mu);
            auto& list = idle[c->key()];
            if (list.size() < current.opts.max_idle_per_host) {
                c->idle_since = steady::now();
                list.push_back(std::move(c));
                return;
            }
            if (list.empty()) idle.erase(c->key());
            how = disposal::retire;
        }
        if (how == disposal::retire && c->tls()) {
            auto strand = c->get_executor();
            asio::co_spawn(strand, close_politely(std::move(c)), asio::detached);
        }
    }

    // Runs `attempt` on a pooled connection if there is one, else on a fresh one, each on its
    // own strand. A pooled connection that died while idle earns one retry on a fresh one.
    template <class T, class Attempt>
    asio::awaitable<T> with_connection(const url& dest, const settings& s, const Attempt& attempt) {
        const auto key = pool_key(dest, s.proxy);
        for (int round = 0;; ++round) {
            connection_ptr c = round == 0 ? take_idle(key) : nullptr;
            const bool reused = c != nullptr;
            if (!c) {
                c = std::make_shared<connection>(asio::make_strand(ex), key,
                                                 dest.tls() ? s.tls : nullptr);
            }
            attempt_result<T> r =
                co_await asio::co_spawn(c->get_executor(), attempt(c, reused), asio::use_awaitable);
            dispose(std::move(c), r.after);
            if (r.stale && round == 0) {
                spdlog::debug("upstream: idle connection to {} was closed, reconnecting", key);
                continue;
            }
            co_return std::move(r.value);
        }
    }
};

client::client(boost::asio::any_io_executor ex, client_options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts))) {}

client::~client() = default;

void client::set_options(client_options opts) {
    impl_->apply(std::move(opts));
}

boost::asio::awaitable<outcome> client::stream_chat(const chat_request& req, delta_fn on_delta,
                                                    cancel_ptr cancel) {
    auto self = impl_;
    outcome out;
    if (aborted(cancel)) {
        out.what = outcome::kind::cancelled;
        out.error_message = "cancelled";
        co_return out;
    }
    auto dest = parse_url(req.base_url);
    if (!dest) {
        out.what = outcome::kind::connect_failed;
        out.error_message = "invalid base_url '" + req.base_url + "'";
        co_return out;
    }
    dest->target = join_target(dest->target, "chat/completions");
    const settings s = self->snapshot();
    if (s.proxy_invalid) {
        out.what = outcome::kind::connect_failed;
        out.error_message = "invalid proxy '" + s.opts.proxy + "'";
        co_return out;
    }

    auto job = std::make_shared<chat_job>();
    job->dest = *dest;
    job->proxy = s.proxy;
    job->masked_key = mask_key(req.api_key);
    job->on_delta = std::move(on_delta);
    job->cancel = cancel;
    auto& r = job->req;
    r.method(http::verb::post);
    r.target(dest->target);
    r.version(11);
    r.set(http::field::host, dest->host_header());
    r.set(http::field::user_agent, user_agent);
    r.set(http::field::authorization, "Bearer " + req.api_key);
    r.set(http::field::content_type, "application/json");
    r.set(http::field::accept, "text/event-stream");
    r.keep_alive(true);
    r.body() = req.body;
    r.prepare_payload();

    // The handle outlives this call; its callback must not reach a connection we gave back.
    struct unlink {
        cancel_ptr cancel;
        ~unlink() {
            if (cancel) cancel->clear_callback();
        }
    } unlink_on_exit{cancel};

    spdlog::debug("upstream: POST {}://{}{} key {}", dest->scheme, dest->host_header(),
                  dest->target, job->masked_key);
    // Named rather than a temporary: g++ 12 destroys closure temporaries inside a co_await
    // expression twice.
    auto attempt = [job, opts = s.opts](connection_ptr c, bool reused) {
        return chat_attempt(std::move(c), job, opts, reused);
    };
    out = co_await self->with_connection<outcome>(*dest, s, attempt);
    if (out.what != outcome::kind::ok) {
        spdlog::debug("upstream: {} key {}: status {} {}", dest->host_header(), job->masked_key,
                      out.http_status, out.error_message);
    }
    co_return out;
}

boost::asio::awaitable<http_response> client::request(
    std::string method, std::string url_text,
    std::vector<std::pair<std::string, std::string>> headers, std::string body,
    std::chrono::milliseconds timeout) {
    auto self = impl_;
    http_response out;
    auto dest = parse_url(url_text);
    if (!dest) {
        out.error = "invalid URL '" + url_text + "'";
        co_return out;
    }
    const settings s = self->snapshot();
    if (s.proxy_invalid) {
        out.error = "invalid proxy '" + s.opts.proxy + "'";
        co_return out;
    }

    auto job = std::make_shared<plain_job>();
    job->dest = *dest;
    job->proxy = s.proxy;
    job->timeout = timeout;
    job->deadline = steady::now() + timeout;
    auto& r = job->req;
    if (auto verb = http::string_to_verb(method); verb != http::verb::unknown) {
        r.method(verb);
    } else {
        r.method_string(method);
    }
    r.target(dest->target);
    r.version(11);
    r.set(http::field::host, dest->host_header());
    r.set(http::field::user_agent, user_agent);
    for (auto& [name, value] : headers) r.set(name, value);
    r.keep_alive(true);
    r.body() = std::move(body);
    r.prepare_payload();

    auto attempt = [job, opts = s.opts](connection_ptr c, bool reused) {
        return plain_attempt(std::move(c), job, opts, reused);
    };
    out = co_await self->with_connection<http_response>(*dest, s, attempt);
    co_return out;
}

}  // namespace chatd::upstream
