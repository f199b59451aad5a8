#include "store/postgres/postgres_database.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>
#include <cerrno>
#include <poll.h>
#include <thread>

#include "store/postgres/postgres_store.hpp"
#include "util/app_error.hpp"
#include "util/random.hpp"
#include "util/thread_name.hpp"

namespace chatd::store {

namespace {

// SQLSTATE class 08: the connection failed or broke; 57P01…57P03: the server is shutting down
// or starting. Either way the call never reached a committed state.
bool connection_lost(const pg::error& e) {
    const auto& s = e.sqlstate();
    return s.empty() || s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

// 40P01 deadlock_detected, 40001 serialization_failure: the server rolled the transaction back
// so that another could go on; the same call run again is expected to succeed.
bool worth_another_try(const std::exception_ptr& error) {
    try {
        std::rethrow_exception(error);
    } catch (const pg::error& e) {
        return e.sqlstate() == "40P01" || e.sqlstate() == "40001";
    } catch (...) {
        return false;
    }
}
constexpr int conflict_attempts = 5;

// NOTIFY's payload limit is 8,000 bytes: longer news goes as "anything may have changed".
constexpr std::size_t max_detail = 7000;
constexpr std::string_view channel = "chatd_events";

constexpr auto first_retry = std::chrono::milliseconds(250);
constexpr auto last_retry = std::chrono::seconds(5);

}  // namespace

// One pooled connection; only its own thread touches it.
struct postgres_database::worker {
    std::unique_ptr<postgres_store> store;
    std::chrono::steady_clock::time_point retry_at{};
    std::chrono::milliseconds backoff = first_retry;
    bool warned = false;
};

postgres_database::worker*& postgres_database::current_worker() {
    thread_local worker* w = nullptr;
    return w;
}

postgres_database::postgres_database(const std::string& url, int pool_size, const std::string& instance)
    : writes_work_(writes_.get_executor()), reads_work_(reads_.get_executor()), sender_(random_hex(8)) {
    int readers = std::max(1, pool_size - 1);
    for (int i = 0; i < 1 + readers; ++i) {
        workers_.push_back(std::make_unique<worker>());
        workers_.back()->store = std::make_unique<postgres_store>(url, instance);
    }
    start_workers(writes_, 1);
    start_workers(reads_, readers);
    listener_ = std::thread([this, url] { listen(url); });
}

void postgres_database::start_workers(boost::asio::io_context& ioc, int count) {
    for (int i = 0; i < count; ++i) {
        threads_.emplace_back([this, &ioc, w = workers_[threads_.size()].get()] {
            name_this_thread(&ioc == &writes_ ? "chatd-pgwrite" : "chatd-pgread");
            current_worker() = w;
            ioc.run();
        });
    }
}

postgres_database::~postgres_database() { stop(); }

// The writer's connection: start-up runs before any call is queued, as with SQLite.
store& postgres_database::direct() { return *workers_.front()->store; }

void postgres_database::stop() {
    stopping_ = true;
    if (listener_.joinable()) listener_.join();
    if (threads_.empty()) return;
    writes_work_.reset();
    reads_work_.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void postgres_database::announce(std::string_view topic, std::string detail) {
    if (detail.size() > max_detail) detail = any_news;
    auto payload = sender_ + "\n" + std::string(topic) + "\n" + detail;
    // On the writer, so the news follows the writes it is about.
    boost::asio::post(writes_, [payload = std::move(payload)] {
        auto& conn = current_worker()->store->connection();
        try {
            if (conn.healthy()) conn.exec("SELECT pg_notify($1, $2)", {std::string(channel), payload});
        } catch (const std::exception& e) {
            // The database is away: the others' listening connections drop too, and they
            // refresh everything once it is back.
            spdlog::debug("announcing to other instances failed: {}", e.what());
        }
    });
}

void postgres_database::on_news(std::string_view topic, news_handler handler) {
    std::lock_guard lock(news_mu_);
    handlers_[std::string(topic)].push_back(std::move(handler));
}

void postgres_database::deliver(std::string_view payload) {
    auto first = payload.find('\n');
    auto second = first == payload.npos ? payload.npos : payload.find('\n', first + 1);
    if (second == payload.npos) return;  // not ours
    if (payload.substr(0, first) == sender_) return;
    auto topic = payload.substr(first + 1, second - first - 1);
    auto detail = payload.substr(second + 1);
    std::lock_guard lock(news_mu_);
    if (auto it = handlers_.find(topic); it != handlers_.end())
        for (auto& h : it->second) h(detail);
}

void postgres_database::deliver_to_all(std::string_view detail) {
    std::lock_guard lock(news_mu_);
    for (auto& [topic, hs] : handlers_)
        for (auto& h : hs) h(detail);
}

void postgres_database::listen(std::string url) {
    name_this_thread("chatd-pglisten");
    std::unique_ptr<pg::connection> conn;
    auto backoff = first_retry;
    bool missed = false;     // news may have gone by while not listening
    bool listening = false;
    auto pause = [&](std::chrono::milliseconds d) {
        for (auto until = std::chrono::steady_clock::now() + d; !stopping_ && std::chrono::steady_clock::now() < until;)
            std::this_thread::sleep_for(std::chrono::milliseconds(50));
    };
    while (!stopping_) {
        if (!listening || !conn->healthy()) {
            try {
                if (!conn) conn = std::make_unique<pg::connection>(url);
                else if (!conn->reconnect()) throw pg::error(conn->last_error());
                conn->exec("LISTEN " + pg::quote_identifier(channel));
                listening = true;
                backoff = first_retry;
                if (missed) deliver_to_all(any_news);
                missed = false;
            } catch (const std::exception& e) {
                spdlog::debug("listening for other instances' news: {}", e.what());
                missed = true;
                listening = false;
                pause(backoff);
                backoff = std::min<std::chrono::milliseconds>(backoff * 2, last_retry);
                continue;
            }
        }
        pollfd fd{PQsocket(conn->handle()), POLLIN, 0};
        if (::poll(&fd, 1, 250) < 0 && errno != EINTR) fd.revents = POLLERR;
        if (fd.revents == 0) continue;
        if (!PQconsumeInput(conn->handle())) {
            missed = true;  // reopened on the next round
            listening = false;
            continue;
        }
        while (PGnotify* n = PQnotifies(conn->handle())) {
            std::string payload = n->extra;
            PQfreemem(n);
            deliver(payload);
        }
    }
}

void postgres_database::enqueue(job j) {
    // A call that runs alone (a backup: pg_dump for as long as it takes) must not hold up the
    // writer, and one that runs apart needs no place in the writes' order: a pooled connection
    // takes either.
    auto& ioc = j.alone || j.apart ? reads_ : writes_;
    boost::asio::post(ioc, [this, j = std::move(j)]() mutable { run_on(*current_worker(), j, false); });
}

void postgres_database::enqueue_read(job j) {
    boost::asio::post(reads_, [this, j = std::move(j)]() mutable { run_on(*current_worker(), j, true); });
}

void postgres_database::run_on(worker& w, job& j, bool reading) {
    auto unavailable = [&] {
        j.fail(std::make_exception_ptr(app_error("database_unavailable")));
        j.finish();
    };
    auto& conn = w.store->connection();
    if (!conn.healthy()) {
        // Reopened at most once per back-off period, so an outage costs no connection storm.
        auto now = std::chrono::steady_clock::now();
        if (now < w.retry_at) return unavailable();
        if (!conn.reconnect()) {
            w.retry_at = now + w.backoff;
            w.backoff = std::min<std::chrono::milliseconds>(w.backoff * 2, last_retry);
            if (!w.warned) spdlog::warn("PostgreSQL is unreachable; retrying with back-off: {}", conn.last_error());
            w.warned = true;
            return unavailable();
        }
        if (w.warned) spdlog::info("PostgreSQL is reachable again");
        w.backoff = first_retry;
        w.warned = false;
    }
    std::exception_ptr error;
    for (int attempt = 1;; ++attempt) {
        error = nullptr;
        try {
            if (reading) conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
            error = j.work(*w.store);
            if (reading) conn.exec(error ? "ROLLBACK" : "COMMIT");
        } catch (...) {
            error = std::current_exception();
        }
        if (!error || attempt == conflict_attempts || !conn.healthy() || !worth_another_try(error)) break;
        if (reading) {
            try {
                conn.exec("ROLLBACK");
            } catch (...) {
            }
        }
        spdlog::info("PostgreSQL chose this call to break a lock conflict; running it again");
        std::this_thread::sleep_for(std::chrono::milliseconds(5 * attempt));  // the winner commits first
    }
    if (error) {
        try {
            std::rethrow_exception(error);
        } catch (const pg::error& e) {
            if (connection_lost(e) || !conn.healthy()) {
                spdlog::warn("PostgreSQL call failed, the connection is lost: {}", e.what());
                error = std::make_exception_ptr(app_error("database_unavailable"));
            } else if (e.sqlstate() == "53100") {  // disk_full
                error = std::make_exception_ptr(app_error("storage_full"));
            } else {
                spdlog::error("PostgreSQL call failed: {}", e.what());
            }
        } catch (...) {
        }
        j.fail(error);
    }
    j.finish();
}

}  // namespace chatd::store
