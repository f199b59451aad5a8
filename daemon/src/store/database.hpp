#pragma once
// Runs store calls on the one database thread and resumes the caller on its own executor,
// so SQLite never blocks an I/O thread and needs no locking.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <memory>
#include <thread>

#include "store/store.hpp"

namespace chatd::store {

class database {
public:
    explicit database(const std::string& path)
        : store_(std::make_unique<store>(path)), work_(ioc_.get_executor()),
          thread_([this] { ioc_.run(); }) {}
    ~database() { stop(); }

    // Runs f(store&) on the database thread; exceptions propagate to the awaiting coroutine.
    template <class F>
    auto run(F f) -> boost::asio::awaitable<decltype(f(std::declval<store&>()))> {
        using result = decltype(f(std::declval<store&>()));
        co_return co_await boost::asio::co_spawn(
            ioc_.get_executor(),
            [this, f = std::move(f)]() mutable -> boost::asio::awaitable<result> {
                co_return f(*store_);
            },
            boost::asio::use_awaitable);
    }

    // For start-up and tests, before any coroutine runs: direct access on the caller's thread.
    store& direct() { return *store_; }

    // Finishes queued work, then joins the thread.
    void stop() {
        if (!thread_.joinable()) return;
        work_.reset();
        thread_.join();
    }

private:
    std::unique_ptr<store> store_;
    boost::asio::io_context ioc_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    std::thread thread_;
};

}  // namespace chatd::store
