#pragma once
// Threads for CPU-heavy or blocking work (password hashing) so I/O threads never stall.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <string>

#include "util/thread_name.hpp"

namespace chatd {

class blocking_pool {
public:
    blocking_pool(std::size_t threads, std::string name) : pool_(threads), name_(std::move(name)) {}
    ~blocking_pool() { pool_.join(); }

    template <class F>
    auto run(F f) -> boost::asio::awaitable<decltype(f())> {
        using result = decltype(f());
        co_return co_await boost::asio::co_spawn(
            pool_.get_executor(),
            [this, f = std::move(f)]() mutable -> boost::asio::awaitable<result> {
                name_this_thread(name_);  // one cheap call beside work that takes milliseconds
                co_return f();
            },
            boost::asio::use_awaitable);
    }

    // Runs f on the pool without waiting for it, for callers that are no coroutine (a thread
    // that only hands work on).
    template <class F>
    void post(F f) {
        boost::asio::post(pool_, [this, f = std::move(f)]() mutable {
            name_this_thread(name_);
            f();
        });
    }

    void stop() { pool_.join(); }

private:
    boost::asio::thread_pool pool_;
    std::string name_;
};

}  // namespace chatd
