#pragma once
// Threads for CPU-heavy or blocking work (password hashing) so I/O threads never stall.
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/thread_pool.hpp>
#include <boost/asio/use_awaitable.hpp>

namespace chatd {

class blocking_pool {
public:
    explicit blocking_pool(std::size_t threads) : pool_(threads) {}
    ~blocking_pool() { pool_.join(); }

    template <class F>
    auto run(F f) -> boost::asio::awaitable<decltype(f())> {
        using result = decltype(f());
        co_return co_await boost::asio::co_spawn(
            pool_.get_executor(),
            [f = std::move(f)]() mutable -> boost::asio::awaitable<result> { co_return f(); },
            boost::asio::use_awaitable);
    }

    void stop() { pool_.join(); }

private:
    boost::asio::thread_pool pool_;
};

}  // namespace chatd
