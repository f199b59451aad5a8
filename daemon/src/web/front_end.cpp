#include "web/front_end.hpp"

#include <boost/json.hpp>
#include <charconv>

#include "auth/auth_service.hpp"
#include "chat/chat_service.hpp"
#include "net/static_files.hpp"
#include "rpc/jsonrpc.hpp"
#include "util/app_error.hpp"
#include "util/ip_range.hpp"
#include "pay/payments.hpp"
#include "wechat/login.hpp"

namespace chatd::web {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;

namespace {

net::response not_found() { return net::json_response(404, R"({"error":"not found"})"); }

}  // namespace

awaitable<void> front_end::handle_rpc(net::request& req, net::responder& r) {
    rpc::call_context ctx;
    ctx.via_socket = req.admin_socket;
    ctx.peer = req.peer;
    ctx.user_agent = std::string(req.header("user-agent"));
    ctx.cookies = req.header("cookie");
    auto c = p_.config();
    ctx.secure = c->public_url.starts_with("https://");
    ctx.origin = !c->public_url.empty() ? c->public_url : "http://" + std::string(req.header("host"));
    if (!req.admin_socket) {
        try {
            ctx.user = co_await p_.auth.resolve(req.header("cookie"), ctx.session_token_hash);
        } catch (const app_error&) {
            ctx.session_error = std::current_exception();
        }
    }
    auto body = co_await p_.dispatcher.handle(req.body, ctx);
    net::response res;
    for (auto& cookie : ctx.set_cookies) res.headers.emplace_back("Set-Cookie", cookie);
    res.headers.emplace_back("Cache-Control", "no-store");
    if (!body) {
        res.status = 204;
        res.content_type.clear();
    } else {
        res.body = std::move(*body);
    }
    co_await r.send(std::move(res));
}

bool front_end::origin_allowed(const net::request& req) const {
    auto origin = req.header("origin");
    if (origin.empty()) return false;
    auto c = p_.config();
    if (!c->public_url.empty() && origin == c->public_url) return true;
    auto host = req.header("host");
    if (host.empty()) return false;
    return origin == "http://" + std::string(host) || origin == "https://" + std::string(host);
}

// The answer a stream request may follow, or why not (`refusal` set). Its own coroutine: the
// viewer's row and the lookups are gone before the stream is followed.
awaitable<front_end::stream_request> front_end::stream_of(const net::request& req, std::string_view id_text) {
    stream_request out;
    store::id_t id = 0;
    auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
    if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0) {
        out.refusal = not_found();
        co_return out;
    }
    std::string token_hash;
    std::optional<store::user_row> user;
    try {
        user = co_await p_.auth.resolve(req.header("cookie"), token_hash);
    } catch (const app_error& e) {
        // The database is away: the browser retries the stream, as after any dropped one.
        out.refusal = net::json_response(503, json::serialize(json::object{{"error", e.reason}}));
        co_return out;
    }
    if (!user || user->banned) {
        out.refusal = net::json_response(401, R"({"error":"unauthorized"})");
        co_return out;
    }
    std::string resume(req.header("last-event-id"));
    if (resume.empty()) resume = req.query_param("after");
    if (!resume.empty()) {
        try {
            out.after = std::stoull(resume);
        } catch (const std::exception&) {
            out.after = 0;
        }
    }
    try {
        out.source = co_await p_.chat.open(*user, id);
    } catch (const app_error&) {
        out.refusal = not_found();
    }
    co_return out;
}

awaitable<void> front_end::handle_stream(net::request& req, net::responder& r, std::string_view id_text) {
    auto s = co_await stream_of(req, id_text);
    if (s.refusal) {
        co_await r.send(std::move(*s.refusal));
        co_return;
    }
    net::response head;
    head.content_type = "text/event-stream; charset=utf-8";
    head.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
    if (!co_await r.open_stream(std::move(head))) co_return;
    co_await p_.chat.follow(std::move(s.source), s.after, [&r](std::string chunk) { return r.write(std::move(chunk)); });
}

// An answer's stream lives as long as the answer: it gets its own small coroutine, so that the
// larger frame of the other routes is not held by each of thousands of open streams.
awaitable<void> front_end::route(net::request& req, net::responder& r) {
    // Behind a reverse proxy the client's address arrives in a header.
    if (!req.admin_socket)
        req.peer = client_address(req.peer, req.header_joined("x-forwarded-for"), req.header("x-real-ip"),
                                  p_.config()->trusted_proxy_ranges);
    if (!req.admin_socket && req.method == "GET" && req.path.starts_with("/api/stream/"))
        co_return co_await handle_stream(req, r, std::string_view(req.path).substr(12));
    // Users' own clients: a bearer key, no cookies, so no Origin check (CONTRACT §13).
    if (!req.admin_socket && (req.path == "/v1" || req.path.starts_with("/v1/"))) co_return co_await handle_openai(req, r);
    co_await route_other(req, r);
}

awaitable<void> front_end::route_other(net::request& req, net::responder& r) {
    const auto& path = req.path;
    if (path == "/rpc") {
        if (req.method != "POST") {
            auto res = net::json_response(405, R"({"error":"use POST"})");
            res.headers.emplace_back("Allow", "POST");
            co_await r.send(std::move(res));
            co_return;
        }
        if (!req.admin_socket && !origin_allowed(req)) {
            co_await r.send(net::json_response(403, R"({"error":"origin not allowed"})"));
            co_return;
        }
        co_await handle_rpc(req, r);
        co_return;
    }
    if (path == "/healthz" && req.method == "GET") {
        bool stopping = p_.stopping(), full = p_.storage_full();
        json::object o{{"status", stopping ? "stopping" : full ? "storage_full" : "ok"}, {"version", CHATD_VERSION}};
        if (full) o["reason"] = "storage_full";
        co_await r.send(net::json_response(stopping || full ? 503 : 200, json::serialize(o)));
        co_return;
    }
    if (req.admin_socket) {
        co_await r.send(net::json_response(404, R"({"error":"the admin socket serves POST /rpc only"})"));
        co_return;
    }
    if (path == "/metrics" && req.method == "GET") {
        net::response res;
        res.content_type = "text/plain; version=0.0.4; charset=utf-8";
        res.body = metrics_text(p_.chat, p_.pool, p_.connections(), p_.started,
                                p_.loop_lags ? p_.loop_lags() : std::vector<double>{},
                                p_.database_write_worst ? p_.database_write_worst() : 0.0);
        co_await r.send(std::move(res));
        co_return;
    }
    if (path == "/api/upload") {
        if (req.method != "POST") {
            auto res = net::json_response(405, R"({"error":"use POST"})");
            res.headers.emplace_back("Allow", "POST");
            co_await r.send(std::move(res));
        } else if (!origin_allowed(req)) {
            co_await r.send(net::json_response(403, R"({"error":"origin not allowed"})"));
        } else {
            co_await handle_upload(req, r);
        }
        co_return;
    }
    if (path.starts_with("/api/files/") && req.method == "GET") {
        co_await handle_file(req, r, std::string_view(path).substr(11));
        co_return;
    }
    // WeChat's servers send no Origin: the signature is what authenticates them.
    if (path == "/wechat/callback") {
        co_await r.send(co_await p_.wechat.callback(req));
        co_return;
    }
    // So do payment providers: each notification carries the provider's signature.
    if (path.starts_with("/pay/") && path.ends_with("/notify") && (req.method == "GET" || req.method == "POST")) {
        auto provider = path.substr(5, path.size() - 5 - 7);
        co_await r.send(co_await p_.payments.notify(std::move(provider), req));
        co_return;
    }
    if (path.starts_with("/api/") || path.starts_with("/wechat/") || path.starts_with("/pay/")) {
        co_await r.send(not_found());
        co_return;
    }
    if (req.method == "POST") {
        if (!origin_allowed(req)) {
            co_await r.send(net::json_response(403, R"({"error":"origin not allowed"})"));
            co_return;
        }
        co_await r.send(not_found());
        co_return;
    }
    if (path == "/manifest.webmanifest" && (req.method == "GET" || req.method == "HEAD")) {
        net::response res;
        res.content_type = "application/manifest+json";
        res.body = web_manifest(p_.site);
        res.headers.emplace_back("Cache-Control", "no-cache");
        co_await r.send(std::move(res));
        co_return;
    }
    co_await r.send(p_.files.serve(req, web_origin(p_.site.get("site.logo_url"))));
}

}  // namespace chatd::web
