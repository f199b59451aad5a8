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
#include <chrono>
#include <exception>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <type_traits>

#include "store/store.hpp"
#include "util/windowed_max.hpp"

namespace chatd::store {

// What processes sharing a database announce to each other (database::announce).
namespace news {
constexpr std::string_view keys = "keys";            // keys added, removed or changed, or their health
constexpr std::string_view settings = "settings";    // run-time settings
constexpr std::string_view models = "models";        // the model catalog
constexpr std::string_view answers_saved = "saved";  // detail: ids of answers whose partial text was saved
constexpr std::string_view stop_answer = "stop";     // detail: the id of an answer its user stopped
constexpr std::string_view files_dropped = "files";  // detail: hashes of uploads' bytes nobody uses any more
}  // namespace news

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
    // As run, for a call its caller awaits whose order against other callers' writes does not
    // matter (a question's transaction, an answer's end): where the backend has several
    // connections that write (PostgreSQL's pool), it may run beside the others instead of
    // queueing behind them. Conflicts are the database's to settle (row locks).
    template <class F>
    auto run_apart(F f) {
        return submit(std::move(f), false, false, true);
    }
    // Runs f(store&) on a read-only connection with a thread of its own, in one read
    // transaction: the operator's heavy listings and searches never hold up the writer.
    // Sees everything committed before the call.
    template <class F>
    auto read(F f) {
        return submit(std::move(f), false, true);
    }

    // Whether this instance runs `job` this round (store::try_lead, on the writer's connection,
    // where the lock lives); false also while the database is away: the round is skipped.
    boost::asio::awaitable<bool> leads(background_job job) {
        try {
            co_return co_await run([job](store& s) { return s.try_lead(job); });
        } catch (const std::exception&) {
            co_return false;
        }
    }

    // True while writes fail for want of room (callers get app_error "storage_full").
    virtual bool storage_full() const = 0;
    // The longest a write call took lately (10-20 s), from being asked to its commit, in seconds:
    // what a question waits for before its answer can start.
    double worst_write_seconds() const { return write_waits_.worst(); }

    // For start-up and tests, before any coroutine runs: direct access on the caller's thread.
    virtual store& direct() = 0;

    // Finishes queued work, then joins the threads.
    virtual void stop() = 0;

    // "sqlite" or "postgres", as admin.status shows it.
    virtual std::string_view backend() const = 0;
    // Whether other chatd processes change this database too: then what a process caches
    // from it must expire within a second.
    virtual bool shared() const = 0;

    // News between the processes sharing a database, so each refreshes what it keeps in memory
    // (the key pool, settings, models) and hands on what another one must act on (stop an
    // answer). A handler runs on the database's listening thread: it posts its work onward.
    // `detail` is the announcer's; `any_news` after news may have been lost (the listening
    // connection dropped): the handler then refreshes everything it keeps.
    using news_handler = std::function<void(std::string_view detail)>;
    static constexpr std::string_view any_news = "*";
    // Tells the other processes, after this one's calls queued before it have committed.
    // Nothing to tell on an unshared database.
    virtual void announce(std::string_view /*topic*/, std::string /*detail*/ = {}) {}
    // Subscribes to another process's announcements of `topic` (never one's own).
    virtual void on_news(std::string_view /*topic*/, news_handler /*handler*/) {}

protected:
    struct job {
        std::function<std::exception_ptr(store&)> work;  // what it threw, if anything
        std::function<void(std::exception_ptr)> fail;    // keeps the first error it is given
        std::function<void()> finish;                    // completes the caller, after the commit
        bool alone = false;
        bool apart = false;  // run_apart
    };

    template <class F>
    auto submit(F f, bool alone, bool reading = false, bool apart = false)
        -> boost::asio::awaitable<decltype(f(std::declval<store&>()))> {
        using result = decltype(f(std::declval<store&>()));
        static_assert(!std::is_void_v<result>, "database::run needs a function that returns a value");
        auto initiation = [this, alone, reading, apart](auto handler, F fn) {
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
            j.apart = apart;
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
            const auto asked = std::chrono::steady_clock::now();
            j.finish = [this, reading, asked, st, ex, guard]() {
                if (!reading)
                    write_waits_.note(std::chrono::duration<double>(std::chrono::steady_clock::now() - asked).count());
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

private:
    windowed_max write_waits_{std::chrono::seconds(10)};
};

}  // namespace chatd::store
