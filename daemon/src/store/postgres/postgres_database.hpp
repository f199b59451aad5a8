#pragma once
// The PostgreSQL store's machinery: one connection writes, taking calls in the order they come
// (as SQLite's single writer does, so a caller's fire-and-forget writes keep their order), and
// the other connections of the pool serve reads side by side. Every store method is its own
// transaction; PostgreSQL's row locks keep several instances from racing. A connection that
// drops is reopened with back-off; meanwhile its calls fail with "database_unavailable" and
// change nothing. One more connection LISTENs for the other processes' news (NOTIFY).
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <map>
#include <mutex>
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
    void announce(std::string_view topic, std::string detail) override;
    void on_news(std::string_view topic, news_handler handler) override;

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
    // The listening connection's thread: LISTEN, then hand each notification to its handlers.
    void listen(std::string url);
    void deliver(std::string_view payload);
    void deliver_to_all(std::string_view detail);

    boost::asio::io_context writes_{1};
    boost::asio::io_context reads_;
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> writes_work_, reads_work_;
    std::vector<std::unique_ptr<worker>> workers_;
    std::vector<std::thread> threads_;

    const std::string sender_;  // tells this process's own notifications apart
    std::mutex news_mu_;
    std::map<std::string, std::vector<news_handler>, std::less<>> handlers_;
    std::atomic<bool> stopping_{false};
    std::thread listener_;
};

}  // namespace chatd::store
