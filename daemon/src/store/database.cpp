#include "store/database.hpp"

#include <spdlog/spdlog.h>

namespace chatd::store {

database::database(const std::string& path)
    : store_(std::make_unique<store>(path)), work_(ioc_.get_executor()), path_(path),
      reader_work_(reader_ioc_.get_executor()), reader_thread_([this] { reader_ioc_.run(); }),
      thread_([this] { ioc_.run(); }), checkpointer_([this, path] { checkpoint_loop(path); }) {}

database::~database() { stop(); }

void database::stop() {
    if (!thread_.joinable()) return;
    work_.reset();
    thread_.join();
    reader_work_.reset();
    reader_thread_.join();
    {
        std::lock_guard lock(checkpoint_mu_);
        stopping_ = true;
    }
    checkpoint_cv_.notify_all();
    checkpointer_.join();
}

void database::checkpoint_loop(std::string path) {
    try {
        SQLite::Database db(path, SQLite::OPEN_READWRITE);
        db.setBusyTimeout(5000);
        std::unique_lock lock(checkpoint_mu_);
        while (!stopping_) {
            checkpoint_cv_.wait_for(lock, std::chrono::seconds(1));
            lock.unlock();
            // PASSIVE never blocks the writer: it copies what it can and leaves the rest.
            db.exec("PRAGMA wal_checkpoint(PASSIVE)");
            lock.lock();
        }
    } catch (const std::exception& e) {
        spdlog::error("WAL checkpoints stopped: {}", e.what());
    }
}

void database::enqueue(job j) {
    bool post = false;
    {
        std::lock_guard lock(mu_);
        pending_.push_back(std::move(j));
        if (!scheduled_) scheduled_ = post = true;
    }
    if (post) boost::asio::post(ioc_, [this] { drain(); });
}

void database::enqueue_read(job j) {
    boost::asio::post(reader_ioc_, [this, j = std::move(j)]() mutable {
        try {
            if (!reader_) reader_ = std::make_unique<store>(path_, store::access::read_only);
            auto& db = reader_->connection();
            // One snapshot for the whole call: its queries agree with each other.
            db.exec("BEGIN");
            j.work(*reader_);
            db.exec("COMMIT");
        } catch (const std::exception& e) {
            spdlog::error("database read failed: {}", e.what());
            j.fail(std::current_exception());
            try {
                if (reader_) reader_->connection().exec("ROLLBACK");
            } catch (const std::exception&) {
                // No transaction was open.
            }
        }
        j.finish();
    });
}

void database::drain() {
    std::vector<job> batch;
    {
        std::lock_guard lock(mu_);
        batch.swap(pending_);
        scheduled_ = false;
    }
    std::vector<job> shared, alone;
    for (auto& j : batch) (j.alone ? alone : shared).push_back(std::move(j));
    run_batch(shared);
    for (auto& j : alone) {
        j.work(*store_);
        j.finish();
    }
}

void database::run_batch(std::vector<job>& batch) {
    if (batch.empty()) return;
    if (batch.size() == 1) {
        batch.front().work(*store_);
        batch.front().finish();
        return;
    }
    auto& db = store_->connection();
    try {
        db.exec("BEGIN IMMEDIATE");
        for (auto& j : batch) {
            db.exec("SAVEPOINT job");
            if (!j.work(*store_)) db.exec("ROLLBACK TO job");
            db.exec("RELEASE job");
        }
        db.exec("COMMIT");
    } catch (const std::exception& e) {
        // Nothing of this batch is stored: every caller gets the error.
        spdlog::error("database batch of {} failed: {}", batch.size(), e.what());
        auto error = std::current_exception();
        try {
            db.exec("ROLLBACK");
        } catch (const std::exception&) {
            // Already rolled back by SQLite.
        }
        for (auto& j : batch) j.fail(error);
    }
    for (auto& j : batch) j.finish();
}

}  // namespace chatd::store
