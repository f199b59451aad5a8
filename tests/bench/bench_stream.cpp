// Load client for streamed answers: asks either the fake upstream directly or chatd, and reports
// time-to-first-token and total time percentiles. The difference between the two modes is what
// chatd adds. See tests/bench/README.md.

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/json.hpp>
#include <boost/program_options.hpp>

#include <sys/resource.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <memory>
#include <optional>
#include <string>
#include <string_view>
#include <thread>
#include <vector>

namespace chatd::bench {

namespace asio = boost::asio;
namespace beast = boost::beast;
namespace http = beast::http;
namespace json = boost::json;
using tcp = asio::ip::tcp;
using steady = std::chrono::steady_clock;

constexpr auto use_tuple = asio::as_tuple(asio::use_awaitable);

enum class mode { direct, chatd };

struct options {
    mode target = mode::direct;
    std::string host;
    std::string port;
    std::string base_path;  // no trailing slash
    std::string key;
    std::string cookie;
    std::string model;
    std::string content = "bench question";
    int concurrency = 1;
    int requests = 1;
    int threads = 2;
    int timeout_s = 120;
    int ramp_ms = 0;  // worker starts spread evenly over this time (0 = all at once)
    bool fresh_connections = false;  // every request connects anew, on the clock
    bool json_output = false;
};

struct sample {
    double ttft_ms;
    double total_ms;
    double send_ms = 0;  // chatd: until chat.send's reply (the admission path)
};

struct results {
    std::vector<sample> ok;
    std::size_t errors = 0;
    std::vector<std::string> notes;  // the first few error descriptions, for stderr

    void fail(std::string what) {
        ++errors;
        if (notes.size() < 5) notes.push_back(std::move(what));
    }
};

double ms_between(steady::time_point a, steady::time_point b) {
    return std::chrono::duration<double, std::milli>(b - a).count();
}

// Splits a byte stream into SSE events. Chunk boundaries need not match event boundaries, so
// bytes wait here until a blank line completes the event.
class sse_reader {
public:
    struct event {
        std::string_view name;
        std::string_view data;
    };

    void append(const char* p, std::size_t n) {
        if (!std::memchr(p, '\r', n)) {
            pending_.append(p, n);
            return;
        }
        for (std::size_t i = 0; i < n; ++i)
            if (p[i] != '\r') pending_ += p[i];
    }

    // Calls f(event) for every complete event; f returns false to stop early.
    template <class F>
    void drain(F&& f) {
        std::size_t pos = 0;
        for (;;) {
            auto end = pending_.find("\n\n", pos);
            if (end == std::string::npos) break;
            std::string_view block(pending_.data() + pos, end - pos);
            pos = end + 2;
            data_.clear();
            std::string_view name = "message";
            bool has_data = false;
            while (!block.empty()) {
                auto nl = block.find('\n');
                auto line = block.substr(0, nl);
                block = nl == std::string_view::npos ? std::string_view{} : block.substr(nl + 1);
                auto colon = line.find(':');
                auto field = line.substr(0, colon);
                auto value = colon == std::string_view::npos ? std::string_view{}
                                                             : line.substr(colon + 1);
                if (value.starts_with(' ')) value.remove_prefix(1);
                if (field == "event") name = value;
                if (field == "data") {
                    if (has_data) data_ += '\n';
                    data_ += value;
                    has_data = true;
                }
            }
            if (has_data && !f(event{name, data_})) break;
        }
        pending_.erase(0, pos);
    }

    void clear() { pending_.clear(); }

private:
    std::string pending_;
    std::string data_;
};

// The first token is the first reasoning or answer text, as chatd counts it (CONTRACT §10).
bool has_content_token(std::string_view data) {
    boost::system::error_code ec;
    auto v = json::parse(data, ec);
    if (ec) return false;
    auto choices = v.is_object() ? v.get_object().if_contains("choices") : nullptr;
    if (!choices || !choices->is_array() || choices->get_array().empty()) return false;
    const auto& c0 = choices->get_array()[0];
    auto delta = c0.is_object() ? c0.get_object().if_contains("delta") : nullptr;
    if (!delta || !delta->is_object()) return false;
    for (const char* field : {"content", "reasoning_content", "reasoning"}) {
        auto text = delta->get_object().if_contains(field);
        if (text && text->is_string() && !text->get_string().empty()) return true;
    }
    return false;
}

// One keep-alive connection running its share of the requests back to back. The shares are
// fixed up front: were they taken from a common counter, a worker whose answer ended early would
// take a request meant for a worker not started yet, and a ramp meant as a steady rate of new
// questions would speed up as the first answers end.
class worker {
public:
    worker(asio::any_io_executor ex, const options& opt, const tcp::resolver::results_type& eps,
           int requests, results& out, std::chrono::milliseconds start_delay)
        : stream_(ex), opt_(opt), endpoints_(eps), requests_(requests), out_(out), start_delay_(start_delay) {}

    asio::awaitable<void> run() {
        // Connecting up front keeps connection setup out of the first request's figures, unless
        // every request is to connect as a new visitor does.
        if (!opt_.fresh_connections) co_await ensure_connected();
        if (start_delay_.count() > 0) {
            asio::steady_timer t(stream_.get_executor(), start_delay_);
            co_await t.async_wait(use_tuple);
        }
        for (int n = 0; n < requests_; ++n) {
            if (opt_.fresh_connections) close();
            const auto asked = steady::now();
            if (!co_await ensure_connected()) {
                out_.fail("connect failed");
                continue;
            }
            auto t0 = opt_.fresh_connections ? asked : steady::now();
            stream_.expires_after(std::chrono::seconds(opt_.timeout_s));
            bool ok = opt_.target == mode::direct ? co_await ask_direct(t0) : co_await ask_chatd(t0);
            if (!ok) close();
        }
        close();
    }

private:
    asio::awaitable<bool> ensure_connected() {
        if (stream_.socket().is_open()) co_return true;
        buffer_.clear();
        stream_.expires_after(std::chrono::seconds(opt_.timeout_s));
        auto [ec, ep] = co_await stream_.async_connect(endpoints_, use_tuple);
        if (ec) co_return false;
        stream_.socket().set_option(tcp::no_delay(true), ec);
        co_return true;
    }

    void close() {
        boost::system::error_code ignored;
        stream_.socket().shutdown(tcp::socket::shutdown_both, ignored);
        stream_.socket().close(ignored);
    }

    template <class Body>
    void common_headers(http::request<Body>& req) {
        req.set(http::field::host, opt_.host + ":" + opt_.port);
        req.set(http::field::user_agent, "bench_stream");
        req.keep_alive(true);
    }

    asio::awaitable<bool> ask_direct(steady::time_point t0) {
        json::object body{{"model", opt_.model.empty() ? "gpt-4o-mini" : opt_.model},
                          {"messages", json::array{json::object{{"role", "user"},
                                                                {"content", opt_.content}}}},
                          {"stream", true},
                          {"stream_options", json::object{{"include_usage", true}}}};
        http::request<http::string_body> req{http::verb::post,
                                             opt_.base_path + "/chat/completions", 11};
        common_headers(req);
        req.set(http::field::authorization, "Bearer " + opt_.key);
        req.set(http::field::content_type, "application/json");
        req.set(http::field::accept, "text/event-stream");
        req.body() = json::serialize(body);
        req.prepare_payload();
        auto [wec, wn] = co_await http::async_write(stream_, req, use_tuple);
        if (wec) co_return fail("write: " + wec.message());

        std::optional<double> ttft;
        bool done = false;
        auto status = co_await read_sse(
            [&](const sse_reader::event& ev, steady::time_point at) {
                if (ev.data == "[DONE]") {
                    done = true;
                    return false;
                }
                if (!ttft && has_content_token(ev.data)) ttft = ms_between(t0, at);
                return true;
            });
        if (!status.empty()) co_return fail(status);
        if (!done) co_return fail("stream ended without [DONE]");
        if (!ttft) co_return fail("no content token");
        out_.ok.push_back({*ttft, ms_between(t0, steady::now())});
        co_return true;
    }

    asio::awaitable<bool> ask_chatd(steady::time_point t0) {
        json::object params{{"content", opt_.content}};
        if (!opt_.model.empty()) params["model"] = opt_.model;
        http::request<http::string_body> rpc{http::verb::post, opt_.base_path + "/rpc", 11};
        common_headers(rpc);
        rpc.set(http::field::content_type, "application/json");
        rpc.set(http::field::origin, "http://" + opt_.host + ":" + opt_.port);
        rpc.set(http::field::cookie, opt_.cookie);
        rpc.body() = json::serialize(json::object{
            {"jsonrpc", "2.0"}, {"id", 1}, {"method", "chat.send"}, {"params", params}});
        rpc.prepare_payload();
        auto [wec, wn] = co_await http::async_write(stream_, rpc, use_tuple);
        if (wec) co_return fail("rpc write: " + wec.message());
        http::response_parser<http::string_body> rp;
        rp.body_limit(1024 * 1024);
        auto [rec, rn] = co_await http::async_read(stream_, buffer_, rp, use_tuple);
        if (rec) co_return fail("rpc read: " + rec.message());
        double send_ms = ms_between(t0, steady::now());
        if (rp.get().result() != http::status::ok)
            co_return fail("rpc HTTP " + std::to_string(rp.get().result_int()));
        boost::system::error_code jec;
        auto reply = json::parse(rp.get().body(), jec);
        const json::value* stream_path = nullptr;
        if (!jec && reply.is_object())
            if (auto r = reply.get_object().if_contains("result"); r && r->is_object())
                stream_path = r->get_object().if_contains("stream");
        if (!stream_path || !stream_path->is_string())
            co_return fail("rpc: " + std::string(rp.get().body().substr(0, 200)));
        if (!rp.get().keep_alive()) {
            close();
            if (!co_await ensure_connected()) co_return fail("reconnect failed");
        }

        http::request<http::empty_body> get{
            http::verb::get, opt_.base_path + std::string(stream_path->get_string()), 11};
        common_headers(get);
        get.set(http::field::cookie, opt_.cookie);
        get.set(http::field::accept, "text/event-stream");
        auto [gec, gn] = co_await http::async_write(stream_, get, use_tuple);
        if (gec) co_return fail("stream write: " + gec.message());

        std::optional<double> ttft;
        std::string ending;
        auto status = co_await read_sse(
            [&](const sse_reader::event& ev, steady::time_point at) {
                if ((ev.name == "delta" || ev.name == "reasoning") && !ttft) ttft = ms_between(t0, at);
                if (ev.name == "done" || ev.name == "error") {
                    ending = std::string(ev.name) + " " + std::string(ev.data.substr(0, 200));
                    return false;
                }
                return true;
            });
        if (!status.empty()) co_return fail(status);
        if (!ending.starts_with("done")) {
            co_return fail(ending.empty() ? "stream ended without done" : ending);
        }
        if (!ttft) co_return fail("done without delta");
        out_.ok.push_back({*ttft, ms_between(t0, steady::now()), send_ms});
        co_return true;
    }

    // Reads one SSE response, handing each event and the time its bytes arrived to on_event.
    // Returns an empty string on success, else what went wrong. Once on_event has seen the last
    // event the rest of the response is read only briefly; a server that keeps it open after
    // that costs a reconnect, not an error.
    template <class F>
    asio::awaitable<std::string> read_sse(F on_event) {
        http::response_parser<http::buffer_body> p;
        p.body_limit(boost::none);
        auto [hec, hn] = co_await http::async_read_header(stream_, buffer_, p, use_tuple);
        if (hec) co_return "read header: " + hec.message();
        if (p.get().result() != http::status::ok)
            co_return "HTTP " + std::to_string(p.get().result_int());
        sse_.clear();
        bool finished = false;
        char chunk[16 * 1024];
        while (!p.is_done()) {
            p.get().body().data = chunk;
            p.get().body().size = sizeof chunk;
            auto [ec, n] = co_await http::async_read_some(stream_, buffer_, p, use_tuple);
            auto at = steady::now();
            if (ec == http::error::need_buffer) ec = {};
            auto got = sizeof chunk - p.get().body().size;
            if (!finished && got > 0) {
                sse_.append(chunk, got);
                sse_.drain([&](const sse_reader::event& ev) {
                    finished = !on_event(ev, at);
                    return !finished;
                });
                if (finished) stream_.expires_after(std::chrono::seconds(1));
            }
            if (ec) {
                close();
                co_return finished ? std::string{} : "read body: " + ec.message();
            }
        }
        if (!p.get().keep_alive()) close();
        co_return std::string{};
    }

    bool fail(std::string what) {
        out_.fail(std::move(what));
        return false;
    }

    beast::tcp_stream stream_;
    beast::flat_buffer buffer_;
    sse_reader sse_;
    const options& opt_;
    const tcp::resolver::results_type& endpoints_;
    const int requests_;
    results& out_;
    std::chrono::milliseconds start_delay_;
};

double percentile(std::vector<double> v, double q) {
    if (v.empty()) return 0;
    std::sort(v.begin(), v.end());
    auto rank = static_cast<std::size_t>(std::ceil(q * static_cast<double>(v.size())));
    return v[std::clamp<std::size_t>(rank, 1, v.size()) - 1];
}

void report(const options& opt, const results& all, double wall_s) {
    std::vector<double> ttft, total, send;
    for (const auto& s : all.ok) {
        ttft.push_back(s.ttft_ms);
        total.push_back(s.total_ms);
        send.push_back(s.send_ms);
    }
    json::object figures{
        {"mode", opt.target == mode::direct ? "direct" : "chatd"},
        {"requests", opt.requests},
        {"ok", all.ok.size()},
        {"errors", all.errors},
        {"concurrency", opt.concurrency},
        {"wall_s", wall_s},
        {"ttft_ms", json::object{{"p50", percentile(ttft, 0.50)},
                                 {"p95", percentile(ttft, 0.95)},
                                 {"p99", percentile(ttft, 0.99)},
                                 {"max", ttft.empty() ? 0.0 : *std::max_element(ttft.begin(), ttft.end())}}},
        {"total_ms", json::object{{"p50", percentile(total, 0.50)},
                                  {"p99", percentile(total, 0.99)}}}};
    if (opt.target == mode::chatd)
        figures["send_ms"] = json::object{{"p50", percentile(send, 0.50)},
                                          {"p95", percentile(send, 0.95)},
                                          {"p99", percentile(send, 0.99)}};
    for (const auto& note : all.notes) std::cerr << "bench_stream: error: " << note << '\n';
    if (opt.json_output) {
        std::cout << json::serialize(figures) << std::endl;
        return;
    }
    const auto& t = figures.at("ttft_ms").as_object();
    const auto& tt = figures.at("total_ms").as_object();
    std::printf(
        "mode          %s\n"
        "requests      %d (ok %zu)\n"
        "errors        %zu\n"
        "concurrency   %d\n"
        "wall time     %.3f s\n"
        "TTFT ms       p50 %.3f  p95 %.3f  p99 %.3f  max %.3f\n"
        "total ms      p50 %.3f  p99 %.3f\n",
        figures.at("mode").as_string().c_str(), opt.requests, all.ok.size(), all.errors,
        opt.concurrency, wall_s, t.at("p50").as_double(), t.at("p95").as_double(),
        t.at("p99").as_double(), t.at("max").as_double(), tt.at("p50").as_double(),
        tt.at("p99").as_double());
}

void parse_url(const std::string& url, options& opt) {
    constexpr std::string_view scheme = "http://";
    if (!url.starts_with(scheme))
        throw std::runtime_error("--url must start with http:// (TLS is not measured here)");
    auto rest = std::string_view(url).substr(scheme.size());
    auto slash = rest.find('/');
    auto authority = rest.substr(0, slash);
    opt.base_path = slash == std::string_view::npos ? "" : std::string(rest.substr(slash));
    while (opt.base_path.ends_with('/')) opt.base_path.pop_back();
    auto colon = authority.rfind(':');
    if (colon == std::string_view::npos) {
        opt.host = authority;
        opt.port = "80";
    } else {
        opt.host = authority.substr(0, colon);
        opt.port = authority.substr(colon + 1);
    }
}

void raise_fd_limit() {
    rlimit rl{};
    if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur < rl.rlim_max) {
        rl.rlim_cur = rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
    }
}

int run(int argc, char** argv) {
    namespace po = boost::program_options;
    options opt;
    std::string target;
    std::vector<std::string> urls, cookies;
    po::options_description desc(
        "bench_stream direct|chatd --url URL [options]\n"
        "  direct: URL is the upstream base, e.g. http://127.0.0.1:PORT/v1\n"
        "  chatd:  URL is chatd's public origin, e.g. http://127.0.0.1:PORT");
    desc.add_options()("help,h", "show this help")(
        "url", po::value(&urls)->required(),
        "base URL; given more than once (several chatd instances), workers take them in turn")(
        "key", po::value(&opt.key), "upstream API key (direct)")(
        "cookie", po::value(&cookies),
        "Cookie header, e.g. chatd_session=... (chatd); given more than once (several users), workers take them in turn")(
        "model", po::value(&opt.model), "model id")(
        "content", po::value(&opt.content)->default_value(opt.content), "question text")(
        "concurrency", po::value(&opt.concurrency)->default_value(1), "workers in parallel")(
        "requests", po::value(&opt.requests)->default_value(1), "requests in total")(
        "threads", po::value(&opt.threads)->default_value(2), "I/O threads (1 or 2)")(
        "timeout-s", po::value(&opt.timeout_s)->default_value(120), "per-request deadline")(
        "ramp-ms", po::value(&opt.ramp_ms)->default_value(0),
        "spread worker starts evenly over this many ms (steady load instead of one burst)")(
        "fresh-connections", po::bool_switch(&opt.fresh_connections),
        "connect anew for every request, the connection's setup counted in its figures")(
        "json", po::bool_switch(&opt.json_output), "print the figures as one JSON object");
    po::options_description hidden;
    hidden.add_options()("mode", po::value(&target));
    po::options_description all;
    all.add(desc).add(hidden);
    po::positional_options_description pos;
    pos.add("mode", 1);
    po::variables_map vm;
    po::store(po::command_line_parser(argc, argv).options(all).positional(pos).run(), vm);
    if (vm.count("help") || !vm.count("mode")) {
        std::cout << desc << '\n';
        return vm.count("help") ? 0 : 2;
    }
    po::notify(vm);
    if (target == "direct") opt.target = mode::direct;
    else if (target == "chatd") opt.target = mode::chatd;
    else throw std::runtime_error("mode must be direct or chatd");
    if (opt.target == mode::direct && opt.key.empty()) throw std::runtime_error("direct needs --key");
    if (opt.target == mode::chatd && cookies.empty())
        throw std::runtime_error("chatd needs --cookie");
    opt.concurrency = std::max(1, opt.concurrency);
    opt.requests = std::max(0, opt.requests);
    opt.threads = std::clamp(opt.threads, 1, 2);

    raise_fd_limit();
    asio::io_context ioc(opt.threads);
    // One set of options and addresses per URL; worker i asks URL i mod n, like a balancer
    // that spreads connections round-robin.
    std::vector<options> targets;
    std::vector<tcp::resolver::results_type> endpoints;
    for (auto& url : urls) {
        parse_url(url, targets.emplace_back(opt));
        endpoints.push_back(tcp::resolver(ioc).resolve(targets.back().host, targets.back().port));
    }
    const int workers = std::min(opt.concurrency, std::max(1, opt.requests));
    // Each worker fills its own results, so the hot path takes no lock.
    std::vector<results> per_worker(workers);
    std::vector<std::unique_ptr<worker>> pool;
    std::vector<options> worker_options;
    worker_options.reserve(workers);  // workers keep a reference to theirs
    auto start = steady::now();
    for (int i = 0; i < workers; ++i) {
        auto strand = asio::make_strand(ioc);
        auto delay = std::chrono::milliseconds(std::int64_t(opt.ramp_ms) * i / workers);
        auto which = i % targets.size();
        int share = opt.requests / workers + (i < opt.requests % workers ? 1 : 0);
        auto& mine = worker_options.emplace_back(targets[which]);
        if (!cookies.empty()) mine.cookie = cookies[i % cookies.size()];
        pool.push_back(std::make_unique<worker>(strand, mine, endpoints[which], share, per_worker[i], delay));
        asio::co_spawn(strand, pool.back()->run(), asio::detached);
    }
    std::vector<std::jthread> threads;
    for (int i = 1; i < opt.threads; ++i) threads.emplace_back([&] { ioc.run(); });
    ioc.run();
    threads.clear();
    double wall_s = std::chrono::duration<double>(steady::now() - start).count();

    results merged;
    for (auto& r : per_worker) {
        merged.ok.insert(merged.ok.end(), r.ok.begin(), r.ok.end());
        merged.errors += r.errors;
        for (auto& n : r.notes)
            if (merged.notes.size() < 5) merged.notes.push_back(std::move(n));
    }
    report(opt, merged, wall_s);
    return merged.errors == 0 ? 0 : 1;
}

}  // namespace chatd::bench

int main(int argc, char** argv) {
    try {
        return chatd::bench::run(argc, argv);
    } catch (const std::exception& e) {
        std::cerr << "bench_stream: " << e.what() << '\n';
        return 2;
    }
}
