#include "app.hpp"

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <charconv>
#include <filesystem>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>
#include <thread>

#include "auth/auth_service.hpp"
#include "chat/chat_service.hpp"
#include "config/settings.hpp"
#include "net/http_server.hpp"
#include "net/static_files.hpp"
#include "rpc/jsonrpc.hpp"
#include "rpc/services.hpp"
#include "store/database.hpp"
#include "upstream/key_checks.hpp"
#include "upstream/key_pool.hpp"
#include "upstream/upstream_client.hpp"
#include "util/blocking_pool.hpp"
#include "util/systemd_notify.hpp"
#include "util/text.hpp"
#include "wechat/login.hpp"

namespace chatd {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

upstream::client_options client_options_of(const config& c) {
    upstream::client_options o;
    o.proxy = c.upstream.proxy;
    o.ca_file = c.upstream.ca_file;
    o.connect_timeout = std::chrono::seconds(c.upstream.connect_timeout);
    o.first_byte_timeout = std::chrono::seconds(c.upstream.first_byte_timeout);
    o.idle_timeout = std::chrono::seconds(c.upstream.idle_timeout);
    return o;
}

upstream::client_options wechat_client_options_of(const config& c) {
    auto o = client_options_of(c);
    o.proxy.clear();
    o.first_byte_timeout = o.idle_timeout = std::chrono::seconds(10);
    return o;
}

void setup_logging(const config& c) {
    static bool once = false;
    if (!once) {
        auto logger = spdlog::stderr_color_mt("chatd");
        // journald stamps every line itself.
        logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "%^%l%$ %v" : "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
        spdlog::set_default_logger(logger);
        once = true;
    }
    spdlog::set_level(spdlog::level::from_str(c.log_level));
}

bool is_loopback(const std::string& ip) { return ip == "127.0.0.1" || ip == "::1" || ip.starts_with("127."); }

// Secrets in admin parameters never reach the audit log in full.
json::value masked_params(const json::value& params) {
    if (!params.is_object()) return params;
    json::object o = params.get_object();
    for (auto& kv : o) {
        auto key = kv.key();
        if (key == "password" || key == "secret") kv.value() = "***";
        if (key == "keys" && kv.value().is_array())
            for (auto& k : kv.value().get_array())
                if (k.is_string()) k = mask_secret(k.get_string());
    }
    return o;
}

}  // namespace

struct app::impl {
    std::vector<std::string> args;
    std::mutex cfg_mu;
    std::shared_ptr<const config> cfg;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    asio::io_context ioc;
    std::unique_ptr<store::database> db;
    blocking_pool hashing{2};
    std::unique_ptr<settings> site;
    upstream::key_pool pool;
    std::unique_ptr<upstream::client> client;
    std::unique_ptr<auth::auth_service> auth;
    // WeChat's API is reached directly: the upstream proxy is for the model providers, and
    // WeChat checks the caller's address against the account's IP whitelist.
    std::unique_ptr<upstream::client> wechat_client;
    std::unique_ptr<wechat::api> wechat_api;
    std::unique_ptr<wechat::login_service> wechat;
    std::unique_ptr<chat::chat_service> chat;
    rpc::dispatcher dispatcher;
    rate_limiter abuse;
    std::unique_ptr<rpc::services> services;
    std::unique_ptr<net::static_files> files;
    std::unique_ptr<net::http_server> server;
    std::atomic<bool> stopping{false};

    std::shared_ptr<const config> current() {
        std::lock_guard lock(cfg_mu);
        return cfg;
    }

    void open_storage() {
        const auto& c = *cfg;
        std::filesystem::create_directories(c.data_dir);
        db = std::make_unique<store::database>((std::filesystem::path(c.data_dir) / "chatd.db").string());
        auto& st = db->direct();
        st.migrate();
        int interrupted = st.interrupt_streaming(chat::unix_now());
        if (interrupted) spdlog::warn("{} answer(s) were cut off by the last stop; marked interrupted and refunded", interrupted);
        int purged = st.purge_sessions(chat::unix_now());
        if (purged) spdlog::debug("purged {} expired session(s)", purged);
        site->load(st.settings());
        pool.load(rpc::pool_keys_of(st.keys()));
    }

    awaitable<void> handle_rpc(net::request& req, net::responder& r) {
        rpc::call_context ctx;
        ctx.via_socket = req.admin_socket;
        ctx.peer = req.peer;
        ctx.user_agent = std::string(req.header("user-agent"));
        ctx.cookies = req.header("cookie");
        auto c = current();
        ctx.secure = c->public_url.starts_with("https://");
        ctx.origin = !c->public_url.empty() ? c->public_url : "http://" + std::string(req.header("host"));
        if (!req.admin_socket) {
            ctx.user = co_await auth->resolve(req.header("cookie"), ctx.session_token_hash);
        }
        auto body = co_await dispatcher.handle(req.body, ctx);
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

    bool origin_allowed(const net::request& req) {
        auto origin = req.header("origin");
        if (origin.empty()) return false;
        auto c = current();
        if (!c->public_url.empty() && origin == c->public_url) return true;
        auto host = req.header("host");
        if (host.empty()) return false;
        return origin == "http://" + std::string(host) || origin == "https://" + std::string(host);
    }

    awaitable<void> handle_stream(net::request& req, net::responder& r, std::string_view id_text) {
        store::id_t id = 0;
        auto [end, ec] = std::from_chars(id_text.data(), id_text.data() + id_text.size(), id);
        if (ec != std::errc() || end != id_text.data() + id_text.size() || id <= 0) {
            co_await r.send(net::json_response(404, R"({"error":"not found"})"));
            co_return;
        }
        std::string token_hash;
        auto user = co_await auth->resolve(req.header("cookie"), token_hash);
        if (!user || user->banned) {
            co_await r.send(net::json_response(401, R"({"error":"unauthorized"})"));
            co_return;
        }
        std::size_t after = 0;
        std::string resume(req.header("last-event-id"));
        if (resume.empty()) resume = req.query_param("after");
        if (!resume.empty()) {
            try {
                after = std::stoull(resume);
            } catch (const std::exception&) {
                after = 0;
            }
        }
        chat::stream_source src;
        bool found = true;
        try {
            src = co_await chat->open(*user, id);
        } catch (const app_error&) {
            found = false;
        }
        if (!found) {
            co_await r.send(net::json_response(404, R"({"error":"not found"})"));
            co_return;
        }
        net::response head;
        head.content_type = "text/event-stream; charset=utf-8";
        head.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}};
        if (!co_await r.open_stream(std::move(head))) co_return;
        co_await chat->follow(std::move(src), after,
                              [&r](std::string chunk) -> awaitable<bool> { co_return co_await r.write(std::move(chunk)); });
    }

    std::string metrics() {
        auto s = chat->stats();
        auto now = chat::unix_now();
        auto k = pool.count(now);
        std::string out;
        auto line = [&](const std::string& name, const std::string& labels, std::int64_t v) {
            out += name + (labels.empty() ? "" : "{" + labels + "}") + " " + std::to_string(v) + "\n";
        };
        out += "# TYPE chatd_answers_in_flight gauge\n";
        line("chatd_answers_in_flight", "", static_cast<std::int64_t>(chat->in_flight()));
        out += "# TYPE chatd_answers_total counter\n";
        line("chatd_answers_total", "status=\"done\"", s.done);
        line("chatd_answers_total", "status=\"stopped\"", s.stopped);
        line("chatd_answers_total", "status=\"failed\"", s.failed);
        line("chatd_answers_total", "status=\"interrupted\"", s.interrupted);
        out += "# TYPE chatd_upstream_attempts_total counter\n";
        line("chatd_upstream_attempts_total", "", s.upstream_attempts);
        out += "# TYPE chatd_upstream_retries_total counter\n";
        line("chatd_upstream_retries_total", "", s.retries);
        out += "# TYPE chatd_key_evictions_total counter\n";
        line("chatd_key_evictions_total", "", pool.evictions());
        out += "# TYPE chatd_keys gauge\n";
        line("chatd_keys", "status=\"active\"", k.active);
        line("chatd_keys", "status=\"cooling\"", k.cooling);
        line("chatd_keys", "status=\"invalid\"", k.invalid);
        line("chatd_keys", "status=\"disabled\"", k.disabled);
        out += "# TYPE chatd_key_requests_total counter\n";
        auto keys = pool.snapshot();
        for (auto& key : keys) line("chatd_key_requests_total", "key_id=\"" + std::to_string(key.id) + "\"", key.requests);
        out += "# TYPE chatd_key_failures_total counter\n";
        for (auto& key : keys) line("chatd_key_failures_total", "key_id=\"" + std::to_string(key.id) + "\"", key.failures);
        out += "# TYPE chatd_http_connections gauge\n";
        line("chatd_http_connections", "", static_cast<std::int64_t>(server->connections()));
        out += "# TYPE chatd_uptime_seconds gauge\n";
        line("chatd_uptime_seconds", "",
             std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
        return out;
    }

    awaitable<void> route(net::request& req, net::responder& r) {
        // Behind a local reverse proxy the client's address arrives in a header.
        if (!req.admin_socket && is_loopback(req.peer)) {
            auto fwd = req.header("x-forwarded-for");
            if (!fwd.empty()) req.peer = trim(fwd.substr(0, fwd.find(',')));
            else if (auto real = req.header("x-real-ip"); !real.empty()) req.peer = trim(real);
        }
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
            bool full = db->storage_full();
            const char* status = stopping ? "stopping" : full ? "storage_full" : "ok";
            json::object o{{"status", status}, {"version", CHATD_VERSION}};
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
            res.body = metrics();
            co_await r.send(std::move(res));
            co_return;
        }
        if (path.starts_with("/api/stream/") && req.method == "GET") {
            co_await handle_stream(req, r, std::string_view(path).substr(12));
            co_return;
        }
        // WeChat's servers send no Origin: the signature is what authenticates them.
        if (path == "/wechat/callback") {
            co_await r.send(co_await wechat->callback(req));
            co_return;
        }
        if (path.starts_with("/api/") || path.starts_with("/wechat/")) {
            co_await r.send(net::json_response(404, R"({"error":"not found"})"));
            co_return;
        }
        if (req.method == "POST") {
            if (!origin_allowed(req)) {
                co_await r.send(net::json_response(403, R"({"error":"origin not allowed"})"));
                co_return;
            }
            co_await r.send(net::json_response(404, R"({"error":"not found"})"));
            co_return;
        }
        co_await r.send(files->serve(req));
    }

    // Messages from before the search index existed, indexed a slice at a time so that
    // questions keep flowing meanwhile.
    awaitable<void> backfill_search() {
        asio::steady_timer t(ioc);
        std::int64_t total = 0;
        auto started = std::chrono::steady_clock::now();
        while (!stopping) {
            auto n = co_await db->run([](store::store& s) { return s.backfill_search(500); });
            if (n == 0) break;
            if (total == 0) spdlog::info("search index: indexing older messages in the background");
            total += n;
            // Room for the checkpointer (and questions) between slices.
            t.expires_after(std::chrono::milliseconds(20));
            co_await t.async_wait(as_tuple);
        }
        if (total > 0)
            spdlog::info("search index: {} older message(s) indexed in {} s", total,
                         std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - started).count());
    }

    // Invalid keys are tested again every keys.recheck_minutes; one that works returns.
    awaitable<void> recheck_keys() {
        asio::steady_timer t(ioc);
        auto last = std::chrono::steady_clock::now();
        for (;;) {
            t.expires_after(std::chrono::seconds(30));
            auto [ec] = co_await t.async_wait(as_tuple);
            if (ec || stopping) co_return;
            auto period = std::chrono::minutes(std::max<long long>(1, site->get_int("keys.recheck_minutes")));
            if (std::chrono::steady_clock::now() - last < period) continue;
            last = std::chrono::steady_clock::now();
            auto now = chat::unix_now();
            for (auto& k : pool.snapshot()) {
                if (!k.enabled || k.shown_status(now) != "invalid") continue;
                auto r = co_await upstream::test_key(*client, pool, k.id, current()->upstream.base_url);
                if (r.ok) {
                    co_await db->run([id = k.id](store::store& s) {
                        s.audit(chat::unix_now(), "system", "socket", "admin.keys.recheck",
                                json::serialize(json::object{{"id", id}, {"result", "active"}}));
                        return 0;
                    });
                }
            }
        }
    }

    awaitable<void> shutdown() {
        if (stopping.exchange(true)) co_return;
        auto c = current();
        spdlog::info("stopping: draining {} answer(s) in flight (up to {} s)", chat->in_flight(), c->drain_timeout);
        systemd_notify("STOPPING=1");
        server->stop_accepting();
        co_await chat->drain(std::chrono::seconds(c->drain_timeout));
        // Idle keep-alive connections go now; streams get a moment to write their final events.
        server->close_all(true);
        asio::steady_timer t(ioc);
        for (int i = 0; i < 40 && server->connections() > 0; ++i) {
            t.expires_after(std::chrono::milliseconds(50));
            co_await t.async_wait(as_tuple);
        }
        server->close_all();
        t.expires_after(std::chrono::milliseconds(100));
        co_await t.async_wait(as_tuple);
        ioc.stop();
    }

    void reload() {
        try {
            auto fresh = reload_config(args);
            if (!fresh) return;
            systemd_notify("RELOADING=1");
            {
                std::lock_guard lock(cfg_mu);
                cfg = fresh;
            }
            setup_logging(*fresh);
            site->reseed(*fresh);
            client->set_options(client_options_of(*fresh));
            wechat_client->set_options(wechat_client_options_of(*fresh));
            spdlog::info("configuration reloaded");
            systemd_notify("READY=1");
        } catch (const std::exception& e) {
            spdlog::error("reload failed, keeping the running configuration: {}", e.what());
        }
    }

    awaitable<void> signals() {
        asio::signal_set sigs(ioc, SIGTERM, SIGINT, SIGHUP);
        for (;;) {
            auto [ec, sig] = co_await sigs.async_wait(as_tuple);
            if (ec) co_return;
            if (sig == SIGHUP) {
                reload();
                continue;
            }
            if (stopping) {
                spdlog::warn("second stop signal: stopping now");
                ioc.stop();
                co_return;
            }
            asio::co_spawn(ioc, shutdown(), asio::detached);
        }
    }
};

app::app(std::shared_ptr<const config> cfg, std::vector<std::string> args) : impl_(std::make_unique<impl>()) {
    auto& m = *impl_;
    m.args = std::move(args);
    m.cfg = cfg;
    setup_logging(*cfg);
    m.site = std::make_unique<settings>(*cfg);
    m.open_storage();
    auto get_cfg = [&m] { return m.current(); };
    m.client = std::make_unique<upstream::client>(m.ioc.get_executor(), client_options_of(*cfg));
    m.auth = std::make_unique<auth::auth_service>(*m.db, m.hashing, *m.site, get_cfg);
    m.chat = std::make_unique<chat::chat_service>(m.ioc, *m.db, *m.client, m.pool, *m.site, get_cfg);
    m.wechat_client = std::make_unique<upstream::client>(m.ioc.get_executor(), wechat_client_options_of(*cfg));
    m.wechat_api = std::make_unique<wechat::api>(*m.wechat_client);
    m.wechat = std::make_unique<wechat::login_service>(
        *m.wechat_api, get_cfg,
        wechat::login_hooks{[&m] { return m.site->get("site.name"); },
                            [&m](std::string openid) -> awaitable<bool> {
                                auto user = co_await m.db->run(
                                    [openid](store::store& s) { return s.user_by_openid(openid); });
                                co_return user && user->banned;
                            }});
    m.chat->set_models(m.db->direct().models());
    m.chat->set_sensitive_words(m.site->get("content.sensitive_words"));
    m.services = std::make_unique<rpc::services>(
        rpc::services{*m.db, *m.auth, *m.chat, m.pool, *m.client, *m.site, get_cfg, m.started, m.abuse,
                       *m.wechat, *m.wechat_api});
    rpc::add_user_methods(m.dispatcher, *m.services);
    rpc::add_admin_methods(m.dispatcher, *m.services);
    m.dispatcher.on_audit = [&m](const rpc::call_context& ctx, const std::string& method, const json::value& params) {
        store::audit_row entry;
        entry.at = chat::unix_now();
        entry.actor = ctx.actor();
        entry.via = ctx.via_socket ? "socket" : "web";
        if (!ctx.via_socket) entry.address = ctx.peer;
        entry.method = method;
        entry.params = json::serialize(masked_params(params));
        if (!ctx.audit_before.is_null()) entry.before = json::serialize(masked_params(ctx.audit_before));
        if (!ctx.audit_after.is_null()) entry.after = json::serialize(masked_params(ctx.audit_after));
        spdlog::info("admin {} via {}: {} {}", entry.actor, entry.via, method, entry.params);
        asio::co_spawn(
            m.ioc,
            [&m, entry]() -> awaitable<void> {
                co_await m.db->run([&](store::store& s) {
                    s.audit(entry);
                    return 0;
                });
            },
            asio::detached);
    };
    m.files = std::make_unique<net::static_files>(cfg->webui_dir);
    m.server = std::make_unique<net::http_server>(
        m.ioc, [&m](net::request& req, net::responder& r) { return m.route(req, r); });
}

app::~app() {
    if (impl_->db) impl_->db->stop();
}

int app::run() {
    auto& m = *impl_;
    auto cfg = m.current();
    auto port = m.server->listen_tcp(cfg->listen_host(), cfg->listen_port());
    m.server->listen_unix(cfg->admin_socket);
    m.chat->start();
    asio::co_spawn(m.ioc, m.signals(), asio::detached);
    asio::co_spawn(m.ioc, m.recheck_keys(), asio::detached);
    asio::co_spawn(m.ioc, m.backfill_search(), asio::detached);
    spdlog::info("chatd {} listening on {}:{} (admin socket {}), {} key(s) in the pool", CHATD_VERSION,
                 cfg->listen_host(), port, cfg->admin_socket, m.pool.snapshot().size());
    systemd_notify("READY=1\nMAINPID=" + std::to_string(::getpid()));

    std::vector<std::thread> threads;
    for (int i = 1; i < cfg->io_threads(); ++i) threads.emplace_back([&m] { m.ioc.run(); });
    m.ioc.run();
    for (auto& t : threads) t.join();
    m.hashing.stop();
    m.db->stop();
    spdlog::info("chatd stopped");
    return 0;
}

}  // namespace chatd
