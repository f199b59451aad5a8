#pragma once
// Counts the coroutines that run on their own (an audit write, a background refresh) so that
// shutdown can wait for them to finish before the threads stop, instead of cutting them off.
// Loops that live as long as the process are not counted: they end with it.
#include <atomic>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <chrono>
#include <exception>
#include <spdlog/spdlog.h>

namespace chatd {

class task_counter {
public:
    // co_spawn with a count held until the coroutine ends, however it ends; an exception that
    // escapes it is logged rather than lost.
    template <class ExecutorOrContext, class Task>
    void spawn(ExecutorOrContext&& where, Task&& task, const char* what) {
        ++running_;
        boost::asio::co_spawn(std::forward<ExecutorOrContext>(where), std::forward<Task>(task), [this, what](std::exception_ptr e) {
            if (e) {
                try {
                    std::rethrow_exception(e);
                } catch (const std::exception& error) {
                    spdlog::error("{} failed: {}", what, error.what());
                } catch (...) {
                    spdlog::error("{} failed", what);
                }
            }
            --running_;
        });
    }

    std::size_t running() const { return running_.load(); }

    // True once none runs; false if some still do after `deadline`.
    boost::asio::awaitable<bool> wait_idle(std::chrono::milliseconds deadline) {
        boost::asio::steady_timer t(co_await boost::asio::this_coro::executor);
        auto until = std::chrono::steady_clock::now() + deadline;
        while (running_ > 0 && std::chrono::steady_clock::now() < until) {
            t.expires_after(std::chrono::milliseconds(10));
            co_await t.async_wait(boost::asio::as_tuple(boost::asio::use_awaitable));
        }
        co_return running_ == 0;
    }

private:
    std::atomic<std::size_t> running_{0};
};

}  // namespace chatd
