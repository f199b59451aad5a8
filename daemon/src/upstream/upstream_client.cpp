// The public client: one attempt's HTTP exchange (a streamed chat or a plain request) with a
// deadline on every phase, cancellation, and one fresh try when a pooled connection was dead.
#include "upstream/upstream_client.hpp"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <cstdint>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/ssl/error.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <boost/beast/http.hpp>
#include <mutex>
#include <optional>
#include <string>

#include "upstream/chat_chunk.hpp"
#include "upstream/connection.hpp"
#include "upstream/error_reply.hpp"
#include "upstream/sse_parser.hpp"
#include "upstream/url.hpp"
#include "util/event_loop.hpp"
#include "util/text.hpp"

namespace chatd::upstream {
namespace {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace ssl = asio::ssl;
using steady = std::chrono::steady_clock;
using namespace std::chrono_literals;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

constexpr std::size_t error_body_cap = 64 * 1024;
constexpr std::size_t request_body_cap = 4 * 1024 * 1024;
constexpr std::uint32_t header_cap = 64 * 1024;
// What one read of a streamed answer takes at most. A token's event is a few hundred bytes, and
// every open answer holds this much: small keeps 10,000 answers in little memory. More at once
// (a provider flushing a backlog) is parsed from the connection's buffer in further rounds,
// with no further system call.
constexpr std::size_t read_chunk = 512;
// After [DONE] only the chunked terminator should be left; waiting longer for it is not worth
// holding the caller, the connection is simply not reused then.
constexpr auto done_drain_limit = 1s;

std::string mask_key(std::string_view key) {
    std::string out;
    if (auto dash = key.find('-'); dash != std::string_view::npos && dash < 6)
        out.assign(key.substr(0, dash + 1));
    out += "…";
    if (key.size() >= 12) out.append(key.substr(key.size() - 4));
    return out;
}

bool is_http_error(const beast::error_code& ec) {
    return ec.category() == beast::http::make_error_code(http::error::bad_target).category();
}

// Links a cancel_handle to one attempt. The callback may fire on any thread, so it only posts
// to the connection's loop; once the attempt is over the connection may already serve
// someone else from the pool, which `finished` (touched only on that loop) protects.
struct cancel_link {
    asio::any_io_executor loop;
    std::weak_ptr<connection> conn;
    bool finished = false;

    static std::shared_ptr<cancel_link> attach(const cancel_ptr& cancel, const connection_ptr& c) {
        auto link = std::make_shared<cancel_link>();
        link->loop = c->get_executor();
        link->conn = c;
        if (cancel) {
            cancel->on_cancel([link] {
                asio::post(link->loop, [link] {
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
        c.read_deadline(std::min(steady::now() + per_read, hard_deadline));
        auto ec = co_await read_some_body(c, p);
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
    c.read_deadline(steady::time_point::max());
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
    // Written by the attempt in place: not returned through every coroutine on the way, each of
    // which would hold a copy in its frame while the answer streams.
    outcome out;
};

struct nothing {};

asio::awaitable<attempt_result<nothing>> chat_attempt(connection_ptr c,
                                                      std::shared_ptr<chat_job> job,
                                                      client_options opts, bool reused) {
    attempt_result<nothing> r;
    outcome& out = job->out;
    out = {};
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
    c->transport().expires_never();
    c->read_deadline(first_byte_deadline);
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
    // Answered: this request is not sent again (a retry goes to another key, with a body of its
    // own), and the conversation it carries need not stay in memory while the answer streams.
    job->req = {};

    // A refusal, or a 2xx that is not a stream: either way the body may be an OpenAI error.
    const bool refused = out.http_status < 200 || out.http_status > 299;
    auto content_type = ascii_lower(std::string_view(head[http::field::content_type]));
    if (refused || !content_type.starts_with("text/event-stream")) {
        std::string body;
        auto ec = co_await read_body(*c, p, body, error_body_cap, opts.idle_timeout,
                                     steady::time_point::max());
        if (aborted(cancel)) co_return cancelled();
        out.what = refused ? outcome::kind::http_error : outcome::kind::malformed;
        if (!take_error_body(body, out) || out.error_message.empty()) {
            if (refused) {
                out.error_message = "HTTP " + std::to_string(out.http_status) +
                                    (body.empty() ? "" : ": " + excerpt(body));
            } else {
                out.error_message =
                    "expected text/event-stream, got " +
                    (content_type.empty() ? std::string("no Content-Type") : content_type);
            }
        }
        if (!ec) r.after = after_complete(*c, p);
        co_return r;
    }
    // The response's headers are read (the parser keeps what framing needs in its own state):
    // a provider sends a kilobyte of them, held otherwise by every open answer.
    p.get().clear();

    sse_parser sse;
    stream_state st;
    // Made once, not for every read: its captures exceed std::function's inline room.
    const std::function<void(const sse_event&)> handle = [&](const sse_event& ev) {
        on_stream_event(ev, out, st, job->on_delta);
    };
    std::string chunk(read_chunk, '\0');
    bool any_body = false;
    // Text that comes within stream_read_gap of the text before it marks a fast stream, whose
    // next read waits for the gap; a slow one reads as before, with no timer per token.
    auto next_read = steady::time_point::min(), last_text = steady::time_point::min();
    beast::error_code ec;
    while (!p.is_done() && !st.done && !st.failed) {
        p.get().body().data = chunk.data();
        p.get().body().size = chunk.size();
        // Some providers send the headers at once and only then wait for the model, so the
        // first-byte allowance also covers the wait for the first body bytes.
        c->read_deadline(std::max(steady::now(), next_read) +
                         (any_body ? opts.idle_timeout : opts.first_byte_timeout));
        const auto rec = co_await read_some_body(*c, p, next_read);
        if (aborted(cancel)) co_return cancelled();
        std::size_t got = chunk.size() - p.get().body().size;
        if (got > 0) {
            any_body = true;
            const auto delivered = st.delivered;
            if (!sse.feed(std::string_view(chunk.data(), got), handle) && !st.failed) {
                co_return fail(outcome::kind::malformed, "a stream line or event over the size limit");
            }
            if (st.delivered != delivered) {
                const auto now = steady::now();
                const bool fast = last_text != steady::time_point::min() && now - last_text < opts.stream_read_gap;
                next_read = fast ? now + opts.stream_read_gap : steady::time_point::min();
                last_text = now;
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
    c->transport().expires_never();
    c->read_deadline(job->deadline);
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
    for (const auto& field : p.get().base())
        out.headers.emplace_back(ascii_lower(field.name_string()), std::string(field.value()));

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
    connection_pool pool;
    std::mutex mu;
    settings current;  // guarded by mu

    void apply(client_options o) {
        settings next;
        if (!o.proxy.empty()) {
            next.proxy = parse_proxy(o.proxy);
            next.proxy_invalid = !next.proxy;
            if (!next.proxy) spdlog::error("upstream: proxy '{}' is not http://host:port", o.proxy);
        }
        pool.set_max_idle_per_host(o.max_idle_per_host);
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

    // Runs `attempt` on a pooled connection if there is one, else on a fresh one, both on the
    // caller's event loop (connections are pooled per loop, so an answer's upstream bytes are
    // read on the thread that relays them, and a loop being one thread, no strand is needed).
    // A pooled connection that died while idle earns one retry on a fresh one.
    template <class T, class Attempt>
    asio::awaitable<T> with_connection(const url& dest, const settings& s, const Attempt& attempt) {
        const auto here = loop_of(co_await asio::this_coro::executor);
        const auto host = connection_pool::key(dest, s.proxy);
        const auto key = host + " @" + std::to_string(reinterpret_cast<std::uintptr_t>(loop_id(here)));
        for (int round = 0;; ++round) {
            connection_ptr c = round == 0 ? pool.take(key) : nullptr;
            const bool reused = c != nullptr;
            if (!c) c = std::make_shared<connection>(here, key, dest.tls() ? s.tls : nullptr);
            attempt_result<T> r = co_await attempt(c, reused);
            pool.put_back(std::move(c), r.after);
            if (r.stale && round == 0) {
                spdlog::debug("upstream: idle connection to {} was closed, reconnecting", host);
                continue;
            }
            co_return std::move(r.value);
        }
    }

    // One streamed chat, prepared by stream_chat.
    asio::awaitable<outcome> exchange(std::shared_ptr<impl> self, std::shared_ptr<chat_job> job,
                                      settings s) {
        // The handle outlives this call; its callback must not reach a connection we gave back.
        struct unlink {
            cancel_ptr cancel;
            ~unlink() {
                if (cancel) cancel->clear_callback();
            }
        } unlink_on_exit{job->cancel};
        // Named rather than a temporary: g++ 12 destroys closure temporaries inside a co_await
        // expression twice.
        auto attempt = [job, opts = s.opts](connection_ptr c, bool reused) {
            return chat_attempt(std::move(c), job, opts, reused);
        };
        co_await self->with_connection<nothing>(job->dest, s, attempt);
        outcome& out = job->out;
        if (out.what != outcome::kind::ok) {
            spdlog::debug("upstream: {} key {}: status {} {}", job->dest.host_header(),
                          job->masked_key, out.http_status, out.error_message);
        }
        co_return std::move(out);
    }
};

client::client(boost::asio::any_io_executor ex, client_options opts)
    : impl_(std::make_shared<impl>(std::move(ex), std::move(opts))) {}

client::~client() = default;

void client::set_options(client_options opts) {
    impl_->apply(std::move(opts));
}

namespace {

asio::awaitable<outcome> at_once(outcome out) {
    co_return out;
}

outcome refusal(outcome::kind what, std::string message) {
    outcome out;
    out.what = what;
    out.error_message = std::move(message);
    return out;
}

}  // namespace

// Not a coroutine: what preparing the request needs is gone before the answer streams, and only
// the exchange's frame is held by each of thousands of open answers.
boost::asio::awaitable<outcome> client::stream_chat(const chat_request& req, delta_fn on_delta,
                                                    cancel_ptr cancel) {
    if (aborted(cancel)) return at_once(refusal(outcome::kind::cancelled, "cancelled"));
    auto dest = parse_url(req.base_url);
    if (!dest)
        return at_once(refusal(outcome::kind::connect_failed, "invalid base_url '" + req.base_url + "'"));
    dest->target = join_target(dest->target, "chat/completions");
    settings s = impl_->snapshot();
    if (s.proxy_invalid)
        return at_once(refusal(outcome::kind::connect_failed, "invalid proxy '" + s.opts.proxy + "'"));

    auto job = std::make_shared<chat_job>();
    job->dest = *dest;
    job->proxy = s.proxy;
    job->masked_key = mask_key(req.api_key);
    job->on_delta = std::move(on_delta);
    job->cancel = std::move(cancel);
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
    r.body() = chat_completion_body(req);
    r.prepare_payload();
    spdlog::debug("upstream: POST {}://{}{} key {}", dest->scheme, dest->host_header(),
                  dest->target, job->masked_key);
    return impl_->exchange(impl_, std::move(job), std::move(s));
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
