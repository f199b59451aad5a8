#pragma once
// Runs store calls on a database thread and resumes the caller on its own executor, so the
// database never blocks an I/O thread. Each backend runs the calls its own way:
// sqlite/sqlite_database.hpp (one writer thread, group commit) and
// postgres/postgres_database.hpp.
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <exception>
#include <functional>
#include <memory>
#include <string_view>
#include <type_traits>

#include "store/store.hpp"

namespace chatd::store {

// The store's machinery: it owns the backend's connections and hands callers its `store`
// interface, one call at a time on a thread of its own.
class database {
public:
    database() = default;
    database(const database&) = delete;
    database& operator=(const database&) = delete;
    virtual ~database() = default;

    // Runs f(store&) on the database thread, possibly batched with other calls; exceptions
    // propagate to the awaiting coroutine. f must return a value (not void).
    template <class F>
    auto run(F f) {
        return submit(std::move(f), false);
    }
    // As run, but never inside a batch transaction and, on PostgreSQL, on a pooled connection
    // out of the writes' order: an online backup, rate limit hits.
    template <class F>
    auto run_alone(F f) {
        return submit(std::move(f), true);
    }
    // Runs f(store&) on a read-only connection with a thread of its own, in one read
    // transaction: the operator's heavy listings and searches never hold up the writer.
    // Sees everything committed before the call.
    template <class F>
    auto read(F f) {
        return submit(std::move(f), false, true);
    }

    // True while writes fail for want of room (callers get app_error "storage_full").
    virtual bool storage_full() const = 0;

    // For start-up and tests, before any coroutine runs: direct access on the caller's thread.
    virtual store& direct() = 0;

    // Finishes queued work, then joins the threads.
    virtual void stop() = 0;

    // "sqlite" or "postgres", as admin.status shows it.
    virtual std::string_view backend() const = 0;
    // Whether other chatd processes change this database too: then what a process caches
    // from it must expire within a second.
    virtual bool shared() const = 0;

protected:
    struct job {
        std::function<std::exception_ptr(store&)> work;  // what it threw, if anything
        std::function<void(std::exception_ptr)> fail;    // keeps the first error it is given
        std::function<void()> finish;                    // completes the caller, after the commit
        bool alone = false;
    };

    template <class F>
    auto submit(F f, bool alone, bool reading = false) -> boost::asio::awaitable<decltype(f(std::declval<store&>()))> {
        using result = decltype(f(std::declval<store&>()));
        static_assert(!std::is_void_v<result>, "database::run needs a function that returns a value");
        auto initiation = [this, alone, reading](auto handler, F fn) {
            using handler_t = decltype(handler);
            struct state {
                handler_t handler;
                result value{};
                std::exception_ptr error;
            };
            auto ex = boost::asio::get_associated_executor(handler);
            auto st = std::make_shared<state>(state{std::move(handler), {}, nullptr});
            auto guard = std::make_shared<decltype(boost::asio::make_work_guard(ex))>(boost::asio::make_work_guard(ex));
            job j;
            j.alone = alone;
            j.work = [st, fn = std::move(fn)](store& s) mutable -> std::exception_ptr {
                try {
                    st->value = fn(s);
                    return nullptr;
                } catch (...) {
                    return std::current_exception();
                }
            };
            j.fail = [st](std::exception_ptr e) {
                if (!st->error) st->error = e;
            };
            j.finish = [st, ex, guard]() {
                boost::asio::post(ex, [st, guard]() {
                    st->handler(st->error, std::move(st->value));
                    guard->reset();
                });
            };
            if (reading) enqueue_read(std::move(j));
            else enqueue(std::move(j));
        };
        co_return co_await boost::asio::async_initiate<const boost::asio::use_awaitable_t<>&,
                                                       void(std::exception_ptr, result)>(
            initiation, boost::asio::use_awaitable, std::move(f));
    }

    // Runs j.work on a writer (j.alone: outside any batch); completes with j.finish.
    virtual void enqueue(job j) = 0;
    // Runs j.work on a reader, in one read transaction.
    virtual void enqueue_read(job j) = 0;
};

}  // namespace chatd::store
