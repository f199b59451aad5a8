#pragma once
// The PostgreSQL store's machinery: one connection writes, taking calls in the order they come
// (as SQLite's single writer does, so a caller's fire-and-forget writes keep their order), and
// the other connections of the pool serve reads side by side. Every store method is its own
// transaction; PostgreSQL's row locks keep several instances from racing. A connection that
// drops is reopened with back-off; meanwhile its calls fail with "database_unavailable" and
// change nothing.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <chrono>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"

namespace chatd::store {

class postgres_store;

class postgres_database final : public database {
public:
    // Opens `pool_size` connections to `url` (libpq syntax): the writer and the readers, at
    // least one of each. Throws pg::error, naming the server without its password, when one
    // cannot be opened.
    // `instance` names this process among those sharing the database (see postgres_store).
    postgres_database(const std::string& url, int pool_size, const std::string& instance);
    ~postgres_database() override;

    bool storage_full() const override { return false; }
    store& direct() override;
    void stop() override;
    std::string_view backend() const override { return "postgres"; }
    bool shared() const override { return true; }

private:
    struct worker;
    // The worker whose thread this is.
    static worker*& current_worker();
    void enqueue(job j) override;
    void enqueue_read(job j) override;
    // Runs `j` on the calling worker's connection, in a read-only snapshot when `reading`.
    void run_on(worker& w, job& j, bool reading);

    // Starts `count` workers that share `ioc`.
    void start_workers(boost::asio::io_context& ioc, int count);

    boost::asio::io_context writes_{1};
    boost::asio::io_context reads_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> writes_work_, reads_work_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<std::thread> threads_;
};

}  // namespace chatd::store
