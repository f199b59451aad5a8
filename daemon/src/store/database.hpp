#pragma once
// Runs store calls on the one database thread and resumes the caller on its own executor,
// so SQLite never blocks an I/O thread and needs no locking.
//
// Group commit: calls that queue up while the thread is busy run together in one
// transaction, each inside its own savepoint (a failing call rolls back only itself), and
// all of them complete once that transaction has committed. A burst of questions then costs
// one WAL write of the shared pages instead of one per question.
#include <boost/asio/async_result.hpp>
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <exception>
#include <functional>
#include <memory>
#include <mutex>
#include <thread>
#include <type_traits>
#include <vector>

#include "store/store.hpp"

namespace SQLite {
class Database;
}

namespace chatd::store {

class sqlite_store;

// SQLite's result code for a write the filesystem had no room for: SQLITE_FULL, or an I/O error
// whose system error was ENOSPC (growing the shared-memory WAL index, for one).
bool is_disk_full(int result_code, int system_errno);

// The SQLite store's machinery: it opens a sqlite_store on `path` and hands callers its
// `store` interface.
class database {
public:
    // A WAL of more than `wal_restart_frames` pages that a checkpoint beside the writer could
    // not empty is finished on the database thread (see database.cpp); 4,096 pages is 16 MiB.
    explicit database(const std::string& path, std::int64_t wal_restart_frames = 4096);
    ~database();

    // Runs f(store&) on the database thread, possibly batched with other calls; exceptions
    // propagate to the awaiting coroutine. f must return a value (not void).
    template <class F>
    auto run(F f) {
        return submit(std::move(f), false);
    }
    // As run, but never inside a batch transaction (online backup).
    template <class F>
    auto run_alone(F f) {
        return submit(std::move(f), true);
    }
    // Runs f(store&) on a read-only connection with a thread of its own, in one read
    // transaction: the operator's heavy listings and searches never hold up the writer (WAL
    // lets a reader and the writer overlap). Sees everything committed before the call.
    template <class F>
    auto read(F f) {
        return submit(std::move(f), false, true);
    }

    // Set by the first write the disk had no room for (callers get app_error "storage_full");
    // cleared once a probe write succeeds again, which the checkpointer tries every second.
    bool storage_full() const { return storage_full_; }

    // For start-up and tests, before any coroutine runs: direct access on the caller's thread.
    store& direct();

    // Finishes queued work, then joins the thread.
    void stop();

private:
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

    void enqueue(job j);
    void enqueue_read(job j);
    void drain();
    void run_batch(std::vector<job>& batch);
    std::exception_ptr run_job(job& j, sqlite_store& s);  // the error the job failed with, if any
    // Records a disk-full SQLite error (see storage_full()); false for any other error.
    bool disk_full(const std::exception& e, SQLite::Database& connection);
    // A disk-full error becomes app_error "storage_full"; any other is returned as it is.
    std::exception_ptr translate(std::exception_ptr error, SQLite::Database& connection);
    bool space_returned(SQLite::Database& probe);

    std::unique_ptr<sqlite_store> store_;
    boost::asio::io_context ioc_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> work_;
    void checkpoint_loop();
    // Queues one checkpoint on the database thread itself (see database.cpp).
    void finish_checkpoint();
    std::int64_t wal_restart_frames_;
    std::atomic<bool> checkpoint_queued_{false};

    std::string path_;
    std::unique_ptr<sqlite_store> reader_;  // opened on first use, after migrations
    boost::asio::io_context reader_ioc_{1};
    boost::asio::executor_work_guard<boost::asio::io_context::executor_type> reader_work_;
    std::thread reader_thread_;

    std::mutex mu_;
    std::vector<job> pending_;
    bool scheduled_ = false;
    std::thread thread_;
    // WAL checkpoints (and their fsyncs) happen here, off the database thread.
    std::mutex checkpoint_mu_;
    std::condition_variable checkpoint_cv_;
    bool stopping_ = false;
    std::atomic<bool> storage_full_{false};
    std::thread checkpointer_;
};

}  // namespace chatd::store
