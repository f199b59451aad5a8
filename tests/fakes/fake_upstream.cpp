// An OpenAI-compatible upstream for integration tests and benchmarks. The API key picks the
// behaviour (`PREFIX:behaviour:opt=value...`), so one process can play healthy, failing and
// misbehaving providers at once. See tests/fakes/README.md.

#include <boost/asio.hpp>
#include <boost/asio/experimental/awaitable_operators.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/resource.h>
#include <sys/socket.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cerrno>
#include <charconv>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <unordered_map>
#include <variant>
#include <vector>

namespace chatd::fake {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
namespace ssl = asio::ssl;
using tcp = asio::ip::tcp;
using asio::experimental::awaitable_operators::operator||;
using steady = std::chrono::steady_clock;
using ms = std::chrono::milliseconds;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);
constexpr std::size_t max_body = 4 * 1024 * 1024;

struct defaults {
    std::vector<std::string> tokens;  // words of --text, each with its trailing space
    int token_count = 20;
    ms delay{0};
    ms first_delay{0};
};

// Counters are read by tests while streams run, so they are atomics; the per-key maps are rare
// enough (once per request) that a mutex costs nothing measurable.
class stats {
public:
    std::int64_t count_request(const std::string& key) {
        std::lock_guard lock(mutex_);
        return ++requests_[key];
    }

    void remember_body(const std::string& key, const std::string& body) {
        std::lock_guard lock(mutex_);
        last_body_[key] = body;
    }

    std::optional<std::string> last_body(const std::string& key) {
        std::lock_guard lock(mutex_);
        auto it = last_body_.find(key);
        if (it == last_body_.end()) return std::nullopt;
        return it->second;
    }

    std::string to_json() {
        json::object requests;
        {
            std::lock_guard lock(mutex_);
            for (const auto& [key, n] : requests_) requests[key] = n;
        }
        return json::serialize(json::object{{"requests", std::move(requests)},
                                            {"in_flight", in_flight.load()},
                                            {"completed", completed.load()},
                                            {"client_closed", client_closed.load()}});
    }

    // in_flight describes live connections, so it survives a reset.
    void reset() {
        std::lock_guard lock(mutex_);
        requests_.clear();
        last_body_.clear();
        completed = 0;
        client_closed = 0;
    }

    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::int64_t> completed{0};
    std::atomic<std::int64_t> client_closed{0};

private:
    std::mutex mutex_;
    std::unordered_map<std::string, std::int64_t> requests_;
    std::unordered_map<std::string, std::string> last_body_;
};

struct server {
    defaults answer;
    stats counters;
};

// What the API key asks for.
struct plan {
    std::string behaviour = "ok";
    int tokens = 0;
    ms delay{0};
    ms first_delay{0};
    int retry_after = 1;
    int after = 3;
    unsigned status = 500;
    int balance = 42;     // what the provider balance endpoints report
    int fail_first = 0;   // the key's first N requests get 401 invalid_api_key (a key fixed later)
    std::string problem;  // non-empty when the key cannot be understood
};

std::optional<int> to_int(std::string_view s) {
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

plan parse_key(std::string_view key, const defaults& d) {
    plan p;
    p.tokens = d.token_count;
    p.delay = d.delay;
    p.first_delay = d.first_delay;
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        auto colon = key.find(':', start);
        parts.push_back(key.substr(start, colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    if (parts.size() >= 2) p.behaviour = parts[1];
    if (p.behaviour == "slow") p.delay = ms{500};
    for (std::size_t i = 2; i < parts.size(); ++i) {
        auto eq = parts[i].find('=');
        auto name = parts[i].substr(0, eq);
        auto value = eq == std::string_view::npos ? std::optional<int>{}
                                                  : to_int(parts[i].substr(eq + 1));
        if (!value) {
            p.problem = "bad fake option '" + std::string(parts[i]) + "'";
            return p;
        }
        if (name == "tokens") p.tokens = *value;
        else if (name == "delay") p.delay = ms{*value};
        else if (name == "first_delay") p.first_delay = ms{*value};
        else if (name == "retry_after") p.retry_after = *value;
        else if (name == "after") p.after = *value;
        else if (name == "status" && *value >= 100 && *value <= 599) p.status = *value;
        else if (name == "balance") p.balance = *value;
        else if (name == "fail_first") p.fail_first = *value;
        else {
            p.problem = "unknown fake option '" + std::string(parts[i]) + "'";
            return p;
        }
    }
    static constexpr std::string_view known[] = {
        "ok",   "echo",      "invalid", "deactivated", "ratelimit", "quota",     "error",
        "badrequest", "hang", "hang_body", "drop", "slow",     "malformed", "badjson"};
    if (std::find(std::begin(known), std::end(known), p.behaviour) == std::end(known))
        p.problem = "unknown fake behaviour '" + p.behaviour + "'";
    return p;
}

void append_json_string(std::string& out, std::string_view s) {
    out += '"';
    for (char ch : s) {
        auto c = static_cast<unsigned char>(ch);
        switch (c) {
            case '"': out += "\\\""; break;
            case '\\': out += "\\\\"; break;
            case '\n': out += "\\n"; break;
            case '\r': out += "\\r"; break;
            case '\t': out += "\\t"; break;
            default:
                if (c < 0x20) {
                    char buf[8];
                    std::snprintf(buf, sizeof buf, "\\u%04x", c);
                    out += buf;
                } else {
                    out += ch;
                }
        }
    }
    out += '"';
}

std::size_t count_code_points(std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

// Multimodal messages carry a list of parts; only the text parts matter here.
std::string content_text(const json::value& content) {
    if (auto s = content.if_string()) return std::string(*s);
    std::string text;
    if (auto parts = content.if_array())
        for (const auto& part : *parts)
            if (auto obj = part.if_object())
                if (auto t = obj->if_contains("text"); t && t->is_string())
                    text += t->get_string();
    return text;
}

std::string mask_key(std::string_view key) {
    if (key.size() <= 8) return std::string(key.substr(0, 3)) + "****";
    return std::string(key.substr(0, 3)) + std::string(key.size() - 7, '*') +
           std::string(key.substr(key.size() - 4));
}

struct canned {
    http::status status;
    std::string body;
    int retry_after = -1;
};

std::string openai_error(std::string_view message, std::string_view type,
                         std::optional<std::string_view> param,
                         std::optional<std::string_view> code) {
    json::object err{{"message", message}, {"type", type}, {"param", nullptr}, {"code", nullptr}};
    if (param) err["param"] = *param;
    if (code) err["code"] = *code;
    return json::serialize(json::object{{"error", std::move(err)}});
}

// The failing behaviours answer chat and model listing alike.
std::optional<canned> error_for(const plan& p, std::string_view key, std::string_view model) {
    const auto& b = p.behaviour;
    if (!p.problem.empty())
        return canned{http::status::bad_request,
                      openai_error(p.problem, "invalid_request_error", std::nullopt, std::nullopt)};
    if (b == "invalid")
        return canned{http::status::unauthorized,
                      openai_error("Incorrect API key provided: " + mask_key(key) +
                                       ". You can find your API key at "
                                       "https://platform.openai.com/account/api-keys.",
                                   "invalid_request_error", std::nullopt, "invalid_api_key")};
    if (b == "deactivated")
        return canned{http::status::unauthorized,
                      openai_error("The OpenAI account associated with this API key has been "
                                   "deactivated.",
                                   "invalid_request_error", std::nullopt, "account_deactivated")};
    if (b == "ratelimit")
        return canned{http::status::too_many_requests,
                      openai_error("Rate limit reached for " + std::string(model) +
                                       " in organization org-fake on requests per min (RPM): "
                                       "Limit 3, Used 3, Requested 1. Please try again in " +
                                       std::to_string(p.retry_after) + "s.",
                                   "requests", std::nullopt, "rate_limit_exceeded"),
                      p.retry_after};
    if (b == "quota")
        return canned{http::status::too_many_requests,
                      openai_error("You exceeded your current quota, please check your plan and "
                                   "billing details.",
                                   "insufficient_quota", std::nullopt, "insufficient_quota")};
    if (b == "error")
        return canned{static_cast<http::status>(p.status),
                      openai_error("The server had an error while processing your request.",
                                   "server_error", std::nullopt, std::nullopt)};
    if (b == "badrequest")
        return canned{http::status::bad_request,
                      openai_error("This model's maximum context length is 8192 tokens. However, "
                                   "your messages resulted in 9210 tokens. Please reduce the "
                                   "length of the messages.",
                                   "invalid_request_error", "messages", "context_length_exceeded")};
    return std::nullopt;
}

std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            unsigned v = 0;
            auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            if (ec == std::errc{} && end == s.data() + i + 3) {
                out += static_cast<char>(v);
                i += 2;
                continue;
            }
        }
        out += s[i] == '+' ? ' ' : s[i];
    }
    return out;
}

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    auto query = target.substr(q + 1);
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name)
            return eq == std::string_view::npos ? std::string{} : url_decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query = query.substr(amp + 1);
    }
    return std::nullopt;
}

// Splits text into pieces of at most `limit` bytes, never cutting a UTF-8 sequence.
std::vector<std::string> split_utf8(std::string_view text, std::size_t limit) {
    std::vector<std::string> out;
    while (!text.empty()) {
        auto cut = std::min(limit, text.size());
        while (cut < text.size() && cut > 0 &&
               (static_cast<unsigned char>(text[cut]) & 0xC0) == 0x80)
            --cut;
        if (cut == 0) cut = std::min(limit, text.size());
        out.emplace_back(text.substr(0, cut));
        text.remove_prefix(cut);
    }
    return out;
}

// Everything the answer needs, decoded once from the request.
struct chat_request {
    std::string model = "gpt-4o-mini";
    bool stream = false;
    bool include_usage = false;
    std::size_t prompt_tokens = 1;
    std::string transcript;  // "role: content" lines, for `echo`
};

std::optional<chat_request> parse_chat(const std::string& body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    chat_request r;
    if (auto m = o.if_contains("model"); m && m->is_string()) r.model = m->get_string();
    if (auto s = o.if_contains("stream"); s && s->is_bool()) r.stream = s->get_bool();
    if (auto so = o.if_contains("stream_options"); so && so->is_object())
        if (auto iu = so->get_object().if_contains("include_usage"); iu && iu->is_bool())
            r.include_usage = iu->get_bool();
    std::size_t chars = 0;
    if (auto msgs = o.if_contains("messages"); msgs && msgs->is_array()) {
        bool first = true;
        for (const auto& m : msgs->get_array()) {
            if (!m.is_object()) continue;
            const auto& mo = m.get_object();
            std::string role;
            if (auto rv = mo.if_contains("role"); rv && rv->is_string()) role = rv->get_string();
            std::string text;
            if (auto c = mo.if_contains("content")) text = content_text(*c);
            chars += count_code_points(text);
            if (!first) r.transcript += '\n';
            first = false;
            r.transcript += role + ": " + text;
        }
    }
    r.prompt_tokens = std::max<std::size_t>(1, chars / 4);
    return r;
}

std::string completion_id() {
    static std::atomic<std::uint64_t> counter{0};
    auto n = counter.fetch_add(1) + static_cast<std::uint64_t>(std::time(nullptr)) * 1000003u;
    char buf[32];
    std::snprintf(buf, sizeof buf, "chatcmpl-%016llx", static_cast<unsigned long long>(n));
    return buf;
}

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

// One SSE answer as OpenAI shapes it. The event text is built in a per-stream buffer that is
// reused for every token, so a stream allocates only while its buffer grows to the largest event.
class sse_answer {
public:
    sse_answer(const chat_request& chat, const plan& p, const defaults& d)
        : plan_(p), defaults_(d), include_usage_(chat.include_usage),
          prompt_tokens_(chat.prompt_tokens) {
        prefix_ = "{\"id\":\"" + completion_id() + "\",\"object\":\"chat.completion.chunk\"," +
                  "\"created\":" + std::to_string(std::time(nullptr)) + ",\"model\":";
        append_json_string(prefix_, chat.model);
        prefix_ += ",";
        if (p.behaviour == "echo") echo_tokens_ = split_utf8(chat.transcript, 8);
        token_count_ = p.behaviour == "echo" ? echo_tokens_.size()
                                             : static_cast<std::size_t>(std::max(0, p.tokens));
    }

    std::size_t token_count() const { return token_count_; }

    std::string_view token(std::size_t i) const {
        if (!echo_tokens_.empty()) return echo_tokens_[i];
        if (defaults_.tokens.empty()) return "token ";
        return defaults_.tokens[i % defaults_.tokens.size()];
    }

    std::string full_text() const {
        std::string text;
        for (std::size_t i = 0; i < token_count_; ++i) text += token(i);
        return text;
    }

    template <class Stream>
    asio::awaitable<outcome> run(Stream& s) {
        const bool badjson = plan_.behaviour == "badjson";
        const bool drop = plan_.behaviour == "drop";
        if (!co_await write_event(s, R"("choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]})"))
            co_return outcome::write_failed;
        if (badjson && !co_await write_raw(s, "data: {not json\n\n"))
            co_return outcome::write_failed;

        asio::steady_timer timer(co_await asio::this_coro::executor);
        const auto first_due = steady::now() + plan_.first_delay;
        for (std::size_t i = 0; i < token_count_; ++i) {
            if (drop && i == static_cast<std::size_t>(plan_.after)) co_return outcome::dropped;
            // Due times come from one origin so that write time does not stretch the stream.
            auto due = first_due + plan_.delay * static_cast<long>(i);
            if (due > steady::now()) {
                timer.expires_at(due);
                auto [ec] = co_await timer.async_wait(use_tuple);
                if (ec) co_return outcome::write_failed;
            }
            body_ = R"("choices":[{"index":0,"delta":{"content":)";
            append_json_string(body_, token(i));
            body_ += R"(},"finish_reason":null}]})";
            if (!co_await write_event(s, body_)) co_return outcome::write_failed;
        }
        if (drop && token_count_ <= static_cast<std::size_t>(plan_.after))
            co_return outcome::dropped;

        if (!co_await write_event(s, R"("choices":[{"index":0,"delta":{},"finish_reason":"stop"}]})"))
            co_return outcome::write_failed;
        if (include_usage_) {
            body_ = R"("choices":[],"usage":{"prompt_tokens":)" + std::to_string(prompt_tokens_) +
                    ",\"completion_tokens\":" + std::to_string(token_count_) +
                    ",\"total_tokens\":" + std::to_string(prompt_tokens_ + token_count_) + "}}";
            if (!co_await write_event(s, body_)) co_return outcome::write_failed;
        }
        // [DONE] and the last chunk leave together: nothing is due between them.
        constexpr std::string_view done = "e\r\ndata: [DONE]\n\n\r\n0\r\n\r\n";
        auto [ec, n] = co_await asio::async_write(s, asio::buffer(done), use_tuple);
        co_return ec ? outcome::write_failed : outcome::finished;
    }

private:
    template <class Stream>
    asio::awaitable<bool> write_event(Stream& s, std::string_view choices) {
        event_ = "data: ";
        event_ += prefix_;
        event_ += choices;
        event_ += "\n\n";
        co_return co_await write_raw(s, event_);
    }

    // One HTTP chunk per event, so each event leaves as soon as it is due.
    template <class Stream>
    asio::awaitable<bool> write_raw(Stream& s, std::string_view payload) {
        char size_line[24];
        int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", payload.size());
        std::array<asio::const_buffer, 3> buffers{asio::buffer(size_line, len),
                                                  asio::buffer(payload), asio::buffer("\r\n", 2)};
        auto [ec, n] = co_await asio::async_write(s, buffers, use_tuple);
        co_return !ec;
    }

    const plan& plan_;
    const defaults& defaults_;
    bool include_usage_;
    std::size_t prompt_tokens_;
    std::size_t token_count_ = 0;
    std::vector<std::string> echo_tokens_;
    std::string prefix_;
    std::string body_;
    std::string event_;
};

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

// Keeps in_flight/completed/client_closed honest however the answer ends.
class flight {
public:
    explicit flight(stats& st) : stats_(st) { ++stats_.in_flight; }
    ~flight() {
        --stats_.in_flight;
        ++(closed_by_client_ ? stats_.client_closed : stats_.completed);
    }
    void client_closed() { closed_by_client_ = true; }

private:
    stats& stats_;
    bool closed_by_client_ = false;
};

template <class Stream>
asio::awaitable<bool> hang(Stream& s, flight& f) {
    co_await (wait_forever() || watch_peer(socket_of(s)));
    f.client_closed();
    co_return false;
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
    if (auto err = error_for(p, key, chat->model))
        co_return co_await send(s, req, err->status, std::move(err->body), "application/json",
                                err->retry_after);
    if (p.behaviour == "malformed")
        co_return co_await send(s, req, http::status::ok,
                                "<html><body>Bad gateway</body></html>", "text/html");

    flight f(srv.counters);
    if (p.behaviour == "hang") co_return co_await hang(s, f);
    if (p.behaviour == "hang_body" || chat->stream) {
        if (!co_await write_sse_header(s, req)) {
            f.client_closed();
            co_return false;
        }
        if (p.behaviour == "hang_body") co_return co_await hang(s, f);
        sse_answer answer(*chat, p, srv.answer);
        auto result = co_await (answer.run(s) || watch_peer(socket_of(s)));
        if (result.index() == 1 || std::get<0>(result) == outcome::write_failed) {
            f.client_closed();
            co_return false;
        }
        co_return std::get<0>(result) == outcome::finished && req.keep_alive();
    }

    // Non-streaming callers get the whole answer once it would have finished streaming.
    sse_answer answer(*chat, p, srv.answer);
    if (p.behaviour == "drop") co_return false;
    auto n = answer.token_count();
    auto total = p.first_delay + (n > 0 ? p.delay * static_cast<long>(n - 1) : ms{0});
    asio::steady_timer timer(co_await asio::this_coro::executor, total);
    auto waited = co_await (timer.async_wait(use_tuple) || watch_peer(socket_of(s)));
    if (waited.index() == 1) {
        f.client_closed();
        co_return false;
    }
    json::object body{
        {"id", completion_id()},
        {"object", "chat.completion"},
        {"created", std::time(nullptr)},
        {"model", chat->model},
        {"choices", json::array{json::object{
                        {"index", 0},
                        {"message", json::object{{"role", "assistant"}, {"content", answer.full_text()}}},
                        {"finish_reason", "stop"}}}},
        {"usage", json::object{{"prompt_tokens", chat->prompt_tokens},
                               {"completion_tokens", n},
                               {"total_tokens", chat->prompt_tokens + n}}}};
    co_return co_await send(s, req, http::status::ok, json::serialize(body));
}

std::string model_list() {
    json::array data;
    for (auto [id, created] : {std::pair{"gpt-4o-mini", 1721172741}, std::pair{"gpt-4o", 1715367049}})
        data.push_back(json::object{
            {"id", id}, {"object", "model"}, {"created", created}, {"owned_by", "fake"}});
    return json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}});
}

template <class Stream>
asio::awaitable<bool> handle_models(Stream& s, const request& req, server& srv,
                                    const std::string& key, const plan& p) {
    if (auto err = error_for(p, key, "gpt-4o-mini"))
        co_return co_await send(s, req, err->status, std::move(err->body), "application/json",
                                err->retry_after);
    if (p.behaviour == "malformed")
        co_return co_await send(s, req, http::status::ok,
                                "<html><body>Bad gateway</body></html>", "text/html");
    if (p.behaviour == "hang") {
        flight f(srv.counters);
        co_return co_await hang(s, f);
    }
    co_return co_await send(s, req, http::status::ok, model_list());
}

// Provider balance endpoints, each in its provider's own shape (DeepSeek, OpenRouter,
// SiliconFlow, Moonshot). `malformed` keys get an HTML page, as a misconfigured proxy would.
std::optional<std::string> balance_body(std::string_view path, int b) {
    auto amount = std::to_string(b) + ".00";
    if (path.ends_with("/user/balance"))
        return json::serialize(json::object{
            {"is_available", true},
            {"balance_infos", json::array{json::object{{"currency", "CNY"}, {"total_balance", amount},
                                                       {"granted_balance", "0.00"}, {"topped_up_balance", amount}}}}});
    if (path.ends_with("/credits"))
        return json::serialize(json::object{{"data", json::object{{"total_credits", b + 10.0}, {"total_usage", 10.0}}}});
    if (path.ends_with("/user/info"))
        return json::serialize(json::object{
            {"code", 20000}, {"message", "OK"}, {"status", true},
            {"data", json::object{{"id", "fake"}, {"balance", amount}, {"chargeBalance", "0"}, {"totalBalance", amount}}}});
    if (path.ends_with("/users/me/balance"))
        return json::serialize(json::object{
            {"code", 0}, {"status", true},
            {"data", json::object{{"available_balance", b}, {"voucher_balance", 0}, {"cash_balance", b}}}});
    return std::nullopt;
}

template <class Stream>
asio::awaitable<bool> handle(Stream& s, const request& req, server& srv) {
    std::string_view target = req.target();
    std::string_view path = target.substr(0, target.find('?'));
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
    if (balance) {
        if (auto err = error_for(p, key, "gpt-4o-mini"))
            co_return co_await send(s, req, err->status, std::move(err->body), "application/json", err->retry_after);
        if (p.behaviour == "malformed")
            co_return co_await send(s, req, http::status::ok, "<html><body>Login</body></html>", "text/html");
        co_return co_await send(s, req, http::status::ok, *balance_body(path, p.balance));
    }
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

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

void write_port_file(const std::string& path, unsigned short port) {
    auto tmp = path + ".tmp";
    {
        std::ofstream out(tmp, std::ios::trunc);
        out << port << '\n';
        if (!out.flush()) throw std::runtime_error("cannot write " + tmp);
    }
    std::filesystem::rename(tmp, path);
}

tcp::endpoint resolve_listen(asio::io_context& ioc, const std::string& listen) {
    auto colon = listen.rfind(':');
    if (colon == std::string::npos) throw std::runtime_error("--listen wants HOST:PORT");
    auto host = listen.substr(0, colon);
    auto port = listen.substr(colon + 1);
    if (host.size() > 1 && host.front() == '[' && host.back() == ']')
        host = host.substr(1, host.size() - 2);
    tcp::resolver resolver(ioc);
    auto results = resolver.resolve(host, port, tcp::resolver::passive);
    if (results.empty()) throw std::runtime_error("cannot resolve " + listen);
    return *results.begin();
}

int run(int argc, char** argv) {
    namespace po = boost::program_options;
    std::string listen, port_file, cert, key, text;
    int threads = 2;
    int delay = 0, first_delay = 0;
    server srv;
    po::options_description desc("fake_upstream options");
    desc.add_options()("help,h", "show this help")(
        "listen", po::value(&listen)->default_value("127.0.0.1:0"), "HOST:PORT (port 0 = any)")(
        "port-file", po::value(&port_file), "write the bound port here")(
        "threads", po::value(&threads)->default_value(2), "I/O threads")(
        "tls-cert", po::value(&cert), "PEM certificate chain; serve HTTPS")(
        "tls-key", po::value(&key), "PEM private key")(
        "text", po::value(&text)->default_value("The quick brown fox jumps over the lazy dog."),
        "answer words, cycled to make tokens")(
        "tokens", po::value(&srv.answer.token_count)->default_value(20), "tokens per answer")(
        "delay-ms", po::value(&delay)->default_value(0), "milliseconds between tokens")(
        "first-delay-ms", po::value(&first_delay)->default_value(0),
        "milliseconds before the first content token");
    po::variables_map vm;
    po::store(po::parse_command_line(argc, argv, desc), vm);
    if (vm.count("help")) {
        std::cout << desc << '\n';
        return 0;
    }
    po::notify(vm);
    if (cert.empty() != key.empty()) throw std::runtime_error("--tls-cert needs --tls-key");
    srv.answer.delay = ms{delay};
    srv.answer.first_delay = ms{first_delay};
    for (std::size_t start = 0; start < text.size();) {
        auto end = text.find(' ', start);
        if (end == std::string::npos) end = text.size();
        if (end > start) srv.answer.tokens.push_back(text.substr(start, end - start) + ' ');
        start = end + 1;
    }

    raise_fd_limit();
    threads = std::max(1, threads);
    asio::io_context ioc(threads);
    std::optional<ssl::context> tls;
    if (!cert.empty()) {
        tls.emplace(ssl::context::tls_server);
        tls->set_options(ssl::context::default_workarounds | ssl::context::no_sslv2 |
                         ssl::context::no_sslv3 | ssl::context::no_tlsv1 |
                         ssl::context::no_tlsv1_1);
        tls->use_certificate_chain_file(cert);
        tls->use_private_key_file(key, ssl::context::pem);
    }

    auto endpoint = resolve_listen(ioc, listen);
    tcp::acceptor acceptor(ioc);
    acceptor.open(endpoint.protocol());
    acceptor.set_option(tcp::acceptor::reuse_address(true));
    acceptor.bind(endpoint);
    acceptor.listen(asio::socket_base::max_listen_connections);
    auto bound = acceptor.local_endpoint();
    if (!port_file.empty()) write_port_file(port_file, bound.port());
    auto host = bound.address().to_string();
    if (bound.address().is_v6()) host = "[" + host + "]";
    std::cout << "fake_upstream listening on " << host << ':' << bound.port() << std::endl;

    asio::signal_set signals(ioc, SIGINT, SIGTERM);
    signals.async_wait([&](auto, int) { ioc.stop(); });
    asio::co_spawn(ioc, accept_loop(acceptor, srv, tls ? &*tls : nullptr), asio::detached);

    std::vector<std::jthread> pool;
    for (int i = 1; i < threads; ++i) pool.emplace_back([&] { ioc.run(); });
    ioc.run();
    return 0;
}

}  // namespace chatd::fake

int main(int argc, char** argv) {
    try {
        return chatd::fake::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "fake_upstream: " << e.what() << '\n';
        return 2;
    }
}
