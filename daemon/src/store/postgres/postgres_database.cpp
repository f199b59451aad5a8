#include "store/postgres/postgres_database.hpp"

#include <spdlog/spdlog.h>

#include <boost/asio/post.hpp>

#include "store/postgres/postgres_store.hpp"
#include "util/app_error.hpp"
#include "util/thread_name.hpp"

namespace chatd::store {

namespace {

// SQLSTATE class 08: the connection failed or broke; 57P01…57P03: the server is shutting down
// or starting. Either way the call never reached a committed state.
bool connection_lost(const pg::error& e) {
    const auto& s = e.sqlstate();
    return s.empty() || s.starts_with("08") || s == "57P01" || s == "57P02" || s == "57P03";
}

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
    : writes_work_(writes_.get_executor()), reads_work_(reads_.get_executor()) {
    int readers = std::max(1, pool_size - 1);
    for (int i = 0; i < 1 + readers; ++i) {
        workers_.push_back(std::make_unique<worker>());
        workers_.back()->store = std::make_unique<postgres_store>(url, instance);
    }
    start_workers(writes_, 1);
    start_workers(reads_, readers);
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
    if (threads_.empty()) return;
    writes_work_.reset();
    reads_work_.reset();
    for (auto& t : threads_) t.join();
    threads_.clear();
}

void postgres_database::enqueue(job j) {
    // A call that runs alone (a backup: pg_dump for as long as it takes) must not hold up the
    // writer; it needs no place in the writes' order, so a pooled connection takes it.
    auto& ioc = j.alone ? reads_ : writes_;
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
    try {
        if (reading) conn.exec("BEGIN ISOLATION LEVEL REPEATABLE READ");
        error = j.work(*w.store);
        if (reading) conn.exec(error ? "ROLLBACK" : "COMMIT");
    } catch (...) {
        error = std::current_exception();
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
