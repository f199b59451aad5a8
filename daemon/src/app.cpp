#include "app.hpp"

#include <boost/asio.hpp>
#include <boost/asio/as_tuple.hpp>
#include <filesystem>
#include <spdlog/spdlog.h>
#include <thread>
#include <unistd.h>

#include <cstdio>

#include "auth/accounts.hpp"
#include "auth/api_keys.hpp"
#include "store/attempt_limiter.hpp"
#include "chat/attachments.hpp"
#include "auth/auth_service.hpp"
#include "chat/chat_service.hpp"
#include "config/client_options.hpp"
#include "config/settings.hpp"
#include "net/http_server.hpp"
#include "net/static_files.hpp"
#include "rpc/audit.hpp"
#include "rpc/jsonrpc.hpp"
#include "rpc/services.hpp"
#include "store/postgres/postgres_database.hpp"
#include "store/sqlite/sqlite_database.hpp"
#include "store/housekeeping.hpp"
#include "store/search_index.hpp"
#include "upstream/key_checks.hpp"
#include "upstream/key_pool.hpp"
#include "upstream/upstream_client.hpp"
#include "util/blocking_pool.hpp"
#include "util/event_loop.hpp"
#include "util/file_lock.hpp"
#include "util/logging.hpp"
#include "util/loop_lag.hpp"
#include "util/systemd_notify.hpp"
#include "util/task_counter.hpp"
#include "util/thread_name.hpp"
#include "util/unix_time.hpp"
#include "pay/configured.hpp"
#include "pay/payments.hpp"
#include "web/front_end.hpp"
#include "wechat/login.hpp"
#include "wechat/memory_login_state.hpp"
#include "wechat/shared_login_state.hpp"

namespace chatd {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

// How admin.status names this process among instances sharing one database: host and port.
std::string instance_name(const config& c) {
    char host[256] = {};
    if (::gethostname(host, sizeof host - 1) != 0) std::snprintf(host, sizeof host, "localhost");
    return std::string(host) + ":" + std::to_string(c.listen_port());
}

struct app::impl {
    std::vector<std::string> args;
    std::mutex cfg_mu;
    std::shared_ptr<const config> cfg;
    std::chrono::steady_clock::time_point started = std::chrono::steady_clock::now();

    // One event loop per I/O thread, each run by its thread alone: a connection and the answers
    // it starts stay on one thread, with no lock or wake-up between threads on the way of a
    // token. `ioc` (the first) also runs the signals and background jobs.
    event_loop ioc{1};
    std::vector<std::unique_ptr<event_loop>> shards;
    std::vector<std::unique_ptr<loop_lag>> lags;  // one a loop: ioc's first
    std::optional<file_lock> data_lock;  // held while this process owns data_dir
    std::unique_ptr<store::database> db;
    blocking_pool hashing{2, "chatd-hash"};
    blocking_pool file_work{1, "chatd-files"};  // reading uploads: type checks, PDF text, hashing
    std::unique_ptr<files::blob_store> blobs;
    std::unique_ptr<chat::attachments> uploads;
    std::unique_ptr<settings> site;
    upstream::key_pool pool;
    std::unique_ptr<upstream::client> client;
    std::unique_ptr<auth::auth_service> auth;
    std::unique_ptr<upstream::client> direct_client;  // no proxy (config/client_options.hpp)
    std::unique_ptr<wechat::api> wechat_api;
    std::unique_ptr<store::attempt_limiter> abuse;  // failed card redemptions, WeChat logins
    std::unique_ptr<wechat::login_service> wechat;
    std::unique_ptr<chat::chat_service> chat;
    std::unique_ptr<auth::accounts> accounts;  // and below: services the RPC methods call
    std::unique_ptr<auth::api_keys> api_keys;
    std::unique_ptr<chat::catalog> catalog;
    std::unique_ptr<chat::conversations> conversations;
    std::unique_ptr<billing::card_service> cards;
    std::unique_ptr<billing::ledger_book> ledger;
    std::unique_ptr<ops::key_registry> keys;
    std::unique_ptr<ops::site_admin> site_admin;
    std::unique_ptr<pay::payments> payments;
    rpc::dispatcher dispatcher;
    std::unique_ptr<rpc::services> services;
    std::unique_ptr<net::static_files> files;
    std::unique_ptr<web::front_end> front;
    std::unique_ptr<net::http_server> server;
    std::atomic<bool> stopping{false};
    task_counter tasks;  // audit writes and other jobs that finish on their own

    std::shared_ptr<const config> current() {
        std::lock_guard lock(cfg_mu);
        return cfg;
    }

    void open_storage() {
        const auto& c = *cfg;
        std::filesystem::create_directories(c.data_dir);
        // Before anything reads or writes the database: the start-up sweep below would rewrite
        // the answers of another chatd running on the same data.
        auto lock_path = (std::filesystem::path(c.data_dir) / "chatd.lock").string();
        data_lock = file_lock::try_acquire(lock_path);
        if (!data_lock) {
            auto pid = file_lock::holder_pid(lock_path);
            throw std::runtime_error("another chatd is running on data_dir " + c.data_dir +
                                     (pid > 0 ? " (pid " + std::to_string(pid) + ")" : std::string()) +
                                     "; this one exits without touching it");
        }
        if (c.store.backend == "postgres")
            db = std::make_unique<store::postgres_database>(c.store.postgres_url, c.store.postgres_pool, instance_name(c));
        else
            db = std::make_unique<store::sqlite_database>((std::filesystem::path(c.data_dir) / "chatd.db").string());
        auto& st = db->direct();
        st.migrate();
        st.register_instance();  // before it writes an answer another instance might sweep
        int interrupted = st.interrupt_streaming(unix_now());
        if (interrupted) spdlog::warn("{} answer(s) were cut off by the last stop; marked interrupted and refunded", interrupted);
        if (st.try_lead(store::background_job::session_purge)) {
            int purged = st.purge_sessions(unix_now());
            if (purged) spdlog::debug("purged {} expired session(s)", purged);
        }
        site->load(st.settings());
        pool.load(st.keys());
    }

    // On a shared database: what other instances change, this one takes into its memory.
    void follow_other_instances() {
        auto on = [this](std::string_view topic, auto refresh, const char* what) {
            db->on_news(topic, [this, refresh, what](std::string_view) { tasks.spawn(ioc, refresh(), what); });
        };
        auto keys_now = [this] { return keys->refresh(); };
        auto settings_now = [this]() -> awaitable<void> {
            co_await site_admin->refresh_settings();
            chat->set_sensitive_words(site->get("content.sensitive_words"));
        };
        auto models_now = [this] { return catalog->refresh_models(); };
        on(store::news::keys, keys_now, "refreshing the key pool");
        on(store::news::settings, settings_now, "refreshing the settings");
        on(store::news::models, models_now, "refreshing the models");
        uploads->listen_for_news();
    }

    awaitable<void> shutdown() {
        if (stopping.exchange(true)) co_return;
        auto c = current();
        spdlog::info("stopping: draining {} answer(s) in flight (up to {} s)", chat->in_flight(), c->drain_timeout);
        systemd_notify("STOPPING=1");
        server->stop_accepting();
        payments->stop();
        co_await chat->drain(std::chrono::seconds(c->drain_timeout));
        if (!co_await tasks.wait_idle(std::chrono::seconds(5)))
            spdlog::warn("stopping with {} background job(s) unfinished", tasks.running());
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
            auto providers = pay::configured_providers(*fresh, *direct_client);
            systemd_notify("RELOADING=1");
            {
                std::lock_guard lock(cfg_mu);
                cfg = fresh;
            }
            setup_logging(fresh->log_level);
            site->reseed(*fresh);
            client->set_options(provider_client_options(*fresh));
            direct_client->set_options(direct_client_options(*fresh));
            payments->configure(std::move(providers), fresh->public_url, fresh->pay.order_minutes);
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
    setup_logging(cfg->log_level);
    m.site = std::make_unique<settings>(*cfg);
    m.open_storage();
    auto get_cfg = [&m] { return m.current(); };
    m.client = std::make_unique<upstream::client>(m.ioc.get_executor(), provider_client_options(*cfg));
    m.auth = std::make_unique<auth::auth_service>(*m.db, m.hashing, *m.site, get_cfg);
    m.accounts = std::make_unique<auth::accounts>(*m.db, *m.auth);
    m.api_keys = std::make_unique<auth::api_keys>(*m.db);
    m.blobs = std::make_unique<files::blob_store>(std::filesystem::path(cfg->data_dir) / "files");
    m.uploads = std::make_unique<chat::attachments>(*m.db, *m.blobs, m.file_work);
    m.chat = std::make_unique<chat::chat_service>(m.ioc, *m.db, *m.client, m.pool, *m.site, get_cfg, *m.uploads);
    m.direct_client = std::make_unique<upstream::client>(m.ioc.get_executor(), direct_client_options(*cfg));
    m.wechat_api = std::make_unique<wechat::api>(*m.direct_client, m.db->shared() ? m.db.get() : nullptr);
    // One instance keeps WeChat login state in memory; instances sharing a database share it there.
    std::unique_ptr<wechat::login_state> login_state;
    if (m.db->shared())
        login_state = std::make_unique<wechat::shared_login_state>(*m.db, [get_cfg] {
            auto c = get_cfg();
            return c->wechat.appid + "\n" + c->wechat.secret;
        });
    else
        login_state = std::make_unique<wechat::memory_login_state>();
    m.abuse = std::make_unique<store::attempt_limiter>(*m.db);
    m.wechat = std::make_unique<wechat::login_service>(
        *m.wechat_api, get_cfg,
        wechat::login_hooks{[&m] { return m.site->get("site.name"); },
                            [&m](std::string openid) { return m.accounts->wechat_user_banned(std::move(openid)); }},
        std::move(login_state), *m.abuse);
    m.chat->set_models(m.db->direct().models());
    m.catalog = std::make_unique<chat::catalog>(*m.db, *m.chat);
    m.conversations = std::make_unique<chat::conversations>(*m.db, *m.uploads);
    m.cards = std::make_unique<billing::card_service>(*m.db);
    m.ledger = std::make_unique<billing::ledger_book>(*m.db, m.tasks);
    m.keys = std::make_unique<ops::key_registry>(*m.db, m.pool);
    m.site_admin = std::make_unique<ops::site_admin>(*m.db, *m.site);
    m.payments = std::make_unique<pay::payments>(m.ioc.get_executor(), *m.db, *m.site);
    m.payments->configure(pay::configured_providers(*cfg, *m.direct_client), cfg->public_url, cfg->pay.order_minutes);
    m.chat->set_sensitive_words(m.site->get("content.sensitive_words"));
    m.follow_other_instances();
    m.services = std::make_unique<rpc::services>(
        rpc::services{*m.auth, *m.accounts, *m.api_keys, *m.chat, *m.catalog, *m.conversations, *m.cards, *m.ledger, *m.keys,
                       *m.site_admin, m.pool, *m.client, *m.site, get_cfg, m.started, *m.abuse, *m.wechat, *m.wechat_api,
                       *m.payments, std::string(m.db->backend()), instance_name(*cfg)});
    rpc::add_methods(m.dispatcher, *m.services);
    m.dispatcher.on_audit = [&m](const rpc::call_context& ctx, const std::string& method, const json::value& params) {
        auto entry = rpc::audit_row_of(ctx, method, params, unix_now());
        spdlog::info("admin {} via {}: {} {}", entry.actor, entry.via, method, entry.params);
        m.tasks.spawn(m.ioc, m.site_admin->record(std::move(entry)), "audit write");
    };
    m.files = std::make_unique<net::static_files>(cfg->webui_dir);
    m.front = std::make_unique<web::front_end>(web::front_end_parts{
        get_cfg, *m.auth, *m.api_keys, *m.chat, *m.uploads, m.dispatcher, m.pool, *m.wechat, *m.payments, *m.site, *m.files,
        [&m] { return m.server->connections(); }, [&m] { return m.stopping.load(); },
        [&m] { return m.db->storage_full(); }, m.started, [&m] {
            std::vector<double> worst;
            for (const auto& lag : m.lags) worst.push_back(lag->worst_seconds());
            return worst;
        },
        [&m] { return m.db->worst_write_seconds(); }});
    std::vector<asio::io_context*> loops{&m.ioc};
    for (int i = 1; i < cfg->io_threads(); ++i) loops.push_back(m.shards.emplace_back(std::make_unique<event_loop>(1)).get());
    m.server = std::make_unique<net::http_server>(
        m.ioc, [&m](net::request& req, net::responder& r) { return m.front->route(req, r); }, m.front->limits(),
        std::move(loops));
}

app::~app() {
    if (impl_->db) impl_->db->stop();
    // Before any loop is destroyed: one loop's pending work may hold another's sockets and
    // timers (an accept for another loop, an answer's follower), see event_loop.
    impl_->ioc.drop_pending_work();
    for (auto& shard : impl_->shards) shard->drop_pending_work();
}

int app::run() {
    auto& m = *impl_;
    auto cfg = m.current();
    auto port = m.server->listen_tcp(cfg->listen_host(), cfg->listen_port());
    m.server->listen_unix(cfg->admin_socket);
    m.chat->start();
    m.payments->start();
    asio::co_spawn(m.ioc, m.signals(), asio::detached);
    auto stopping = [&m] { return m.stopping.load(); };
    asio::co_spawn(m.ioc,
                   upstream::recheck_invalid_keys(
                       *m.client, m.pool,
                       {[&m] { return std::chrono::minutes(std::max<long long>(1, m.site->get_int("keys.recheck_minutes"))); },
                        [&m] { return m.current()->upstream.base_url; },
                        [&m](std::int64_t id) { return m.site_admin->record_key_recovered(id, unix_now()); },
                        [&m] { return m.db->leads(store::background_job::key_recheck); }, stopping}),
                   asio::detached);
    asio::co_spawn(m.ioc, store::keep_search_index(*m.db, stopping), asio::detached);
    asio::co_spawn(m.ioc,
                   store::keep_house(*m.db, {[&m] { return std::chrono::seconds(m.current()->store.instance_timeout); },
                                             stopping}),
                   asio::detached);
    asio::co_spawn(m.ioc, m.abuse->prune_old(stopping), asio::detached);
    spdlog::info("chatd {} listening on {}:{} (admin socket {}), {} key(s) in the pool", CHATD_VERSION,
                 cfg->listen_host(), port, cfg->admin_socket, m.pool.snapshot().size());
    systemd_notify("READY=1\nMAINPID=" + std::to_string(::getpid()));
    m.lags.push_back(std::make_unique<loop_lag>());
    m.lags.back()->start(m.ioc);
    for (auto& shard : m.shards) {
        m.lags.push_back(std::make_unique<loop_lag>());
        m.lags.back()->start(*shard);
    }
    std::vector<std::thread> threads;
    std::vector<asio::executor_work_guard<asio::io_context::executor_type>> busy;
    for (auto& shard : m.shards) {
        busy.push_back(asio::make_work_guard(*shard));
        threads.emplace_back([&shard, n = threads.size() + 1] {
            name_this_thread("chatd-io" + std::to_string(n));
            shard->run();
        });
    }
    m.ioc.run();  // the main thread keeps the process's name
    // The first loop ends after the drain (or a second signal): the others end with it.
    for (auto& shard : m.shards) shard->stop();
    for (auto& t : threads) t.join();
    m.hashing.stop();
    m.file_work.stop();
    m.db->stop();
    spdlog::info("chatd stopped");
    return 0;
}

}  // namespace chatd
