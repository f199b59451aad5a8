#pragma once
// The SQLite store's machinery: one writer thread, a reader thread and a checkpointer.
//
// Group commit: calls that queue up while the writer is busy run together in one
// transaction, each inside its own savepoint (a failing call rolls back only itself), and
// all of them complete once that transaction has committed. A burst of questions then costs
// one WAL write of the shared pages instead of one per question.
#include <boost/asio/executor_work_guard.hpp>
#include <boost/asio/io_context.hpp>
#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "store/database.hpp"

namespace SQLite {
class Database;
}

namespace chatd::store {

class sqlite_store;

// SQLite's result code for a write the filesystem had no room for: SQLITE_FULL, or an I/O error
// whose system error was ENOSPC (growing the shared-memory WAL index, for one).
bool is_disk_full(int result_code, int system_errno);

class sqlite_database final : public database {
public:
    // A WAL of more than `wal_restart_frames` pages that a checkpoint beside the writer could
    // not empty is finished on the database thread (see sqlite_database.cpp); 4,096 pages is 16 MiB.
    explicit sqlite_database(const std::string& path, std::int64_t wal_restart_frames = 4096);
    ~sqlite_database() override;

    // Set by the first write the disk had no room for; cleared once a probe write succeeds
    // again, which the checkpointer tries every second.
    bool storage_full() const override { return storage_full_; }
    store& direct() override;
    void stop() override;
    std::string_view backend() const override { return "sqlite"; }
    bool shared() const override { return false; }

private:
    void enqueue(job j) override;
    void enqueue_read(job j) override;
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
