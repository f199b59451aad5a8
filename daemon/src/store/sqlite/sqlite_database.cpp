#include "store/sqlite/sqlite_database.hpp"

#include <SQLiteCpp/Database.h>
#include <SQLiteCpp/Statement.h>
#include <SQLiteCpp/Transaction.h>
#include <fcntl.h>
#include <spdlog/spdlog.h>
#include <sqlite3.h>
#include <unistd.h>

#include <cerrno>

#include "store/sqlite/sqlite_store.hpp"
#include "util/thread_name.hpp"

namespace chatd::store {

namespace {

constexpr const char* storage_full_message =
    "服务器磁盘已满，请稍后再试 (the server's disk is full; nothing was changed)";

// Whether `bytes` more fit on the filesystem, found by writing them to a scratch file.
bool room_for(const std::string& path, std::size_t bytes) {
    int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0) return false;
    std::vector<char> zeros(bytes);
    bool written = ::write(fd, zeros.data(), bytes) == static_cast<ssize_t>(bytes);
    ::close(fd);
    ::unlink(path.c_str());
    return written;
}

}  // namespace

bool is_disk_full(int result_code, int system_errno) {
    int primary = result_code & 0xff;
    return primary == SQLITE_FULL || (primary == SQLITE_IOERR && system_errno == ENOSPC);
}

sqlite_database::sqlite_database(const std::string& path, std::int64_t wal_restart_frames)
    : store_(std::make_unique<sqlite_store>(path)), work_(ioc_.get_executor()), wal_restart_frames_(wal_restart_frames), path_(path),
      reader_work_(reader_ioc_.get_executor()), reader_thread_([this] {
          name_this_thread("chatd-dbread");
          reader_ioc_.run();
      }),
      thread_([this] {
          name_this_thread("chatd-db");
          ioc_.run();
      }),
      checkpointer_([this] {
          name_this_thread("chatd-dbcheck");
          checkpoint_loop();
      }) {}

sqlite_database::~sqlite_database() { stop(); }

store& sqlite_database::direct() { return *store_; }

void sqlite_database::stop() {
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

bool sqlite_database::disk_full(const std::exception& e, SQLite::Database& connection) {
    auto* sqlite_error = dynamic_cast<const SQLite::Exception*>(&e);
    if (!sqlite_error ||
        !is_disk_full(sqlite_error->getErrorCode(), sqlite3_system_errno(connection.getHandle())))
        return false;
    if (!storage_full_.exchange(true))
        spdlog::error("the disk is full ({}): writes fail with storage_full until space returns", e.what());
    return true;
}

std::exception_ptr sqlite_database::translate(std::exception_ptr error, SQLite::Database& connection) {
    try {
        std::rethrow_exception(error);
    } catch (const std::exception& e) {
        if (disk_full(e, connection))
            return std::make_exception_ptr(app_error("storage_full", storage_full_message));
    } catch (...) {
    }
    return error;
}

std::exception_ptr sqlite_database::run_job(job& j, sqlite_store& s) {
    auto error = j.work(s);
    if (error) {
        error = translate(error, s.connection());
        j.fail(error);
    }
    return error;
}

// The WAL can still hold a small write in frames it reuses while the filesystem has no room
// left, so room for a fresh file comes first; then the database itself must take a write.
bool sqlite_database::space_returned(SQLite::Database& probe) {
    if (!room_for(path_ + ".space-probe", 64 * 1024)) return false;
    SQLite::Transaction t(probe, SQLite::TransactionBehavior::IMMEDIATE);
    int version = probe.execAndGet("PRAGMA user_version").getInt();
    probe.exec("PRAGMA user_version=" + std::to_string(version));
    t.commit();
    return true;
}

// Also watches a full disk: while it lasts, probes every second for space.
void sqlite_database::checkpoint_loop() {
    std::unique_ptr<SQLite::Database> db;
    auto last_warning = std::chrono::steady_clock::time_point::min();
    std::unique_lock lock(checkpoint_mu_);
    while (!stopping_) {
        checkpoint_cv_.wait_for(lock, std::chrono::seconds(1));
        lock.unlock();
        try {
            if (!db) {
                db = std::make_unique<SQLite::Database>(path_, SQLite::OPEN_READWRITE);
                db->setBusyTimeout(5000);
            }
            if (storage_full_ && space_returned(*db) && storage_full_.exchange(false))
                spdlog::info("disk space is back: writes and WAL checkpoints go on");
            // PASSIVE never blocks the writer: it copies what it can and leaves the rest.
            SQLite::Statement checkpoint(*db, "PRAGMA wal_checkpoint(PASSIVE)");
            // Its second column: the frames in the log, which only a restart makes fewer.
            if (checkpoint.executeStep() && checkpoint.getColumn(1).getInt64() > wal_restart_frames_)
                finish_checkpoint();
        } catch (const std::exception& e) {
            // Retried next time: meanwhile the WAL only grows.
            bool full = db && disk_full(e, *db);
            auto now = std::chrono::steady_clock::now();
            if (!full && now - last_warning > std::chrono::minutes(1)) {
                spdlog::warn("WAL checkpoint failed (retried every second): {}", e.what());
                last_warning = now;
            }
        }
        lock.lock();
    }
}

// Under steady writes a checkpoint beside the writer never copies the last frames (new ones
// arrive while it copies), so SQLite never restarts the log: the WAL grows without bound and
// every write extends the file. Run between two batches, the checkpoint copies the little that
// is left, and the next write starts the log again from its beginning.
void sqlite_database::finish_checkpoint() {
    if (checkpoint_queued_.exchange(true)) return;
    job j;
    j.alone = true;
    j.work = [this](store&) -> std::exception_ptr {
        try {
            store_->connection().exec("PRAGMA wal_checkpoint(PASSIVE)");
        } catch (...) {
            return std::current_exception();
        }
        return nullptr;
    };
    j.fail = [](std::exception_ptr) {};
    j.finish = [this] { checkpoint_queued_ = false; };
    enqueue(std::move(j));
}

void sqlite_database::enqueue(job j) {
    bool post = false;
    {
        std::lock_guard lock(mu_);
        pending_.push_back(std::move(j));
        if (!scheduled_) scheduled_ = post = true;
    }
    if (post) boost::asio::post(ioc_, [this] { drain(); });
}

void sqlite_database::enqueue_read(job j) {
    boost::asio::post(reader_ioc_, [this, j = std::move(j)]() mutable {
        try {
            if (!reader_) reader_ = std::make_unique<sqlite_store>(path_, sqlite_store::access::read_only);
            auto& db = reader_->connection();
            // One snapshot for the whole call: its queries agree with each other.
            db.exec("BEGIN");
            run_job(j, *reader_);
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

void sqlite_database::drain() {
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
        run_job(j, *store_);
        j.finish();
    }
}

void sqlite_database::run_batch(std::vector<job>& batch) {
    if (batch.empty()) return;
    if (batch.size() == 1) {
        run_job(batch.front(), *store_);
        batch.front().finish();
        return;
    }
    auto& db = store_->connection();
    try {
        db.exec("BEGIN IMMEDIATE");
        for (auto& j : batch) {
            db.exec("SAVEPOINT job");
            if (auto error = run_job(j, *store_)) {
                // A full disk can make SQLite roll back the whole transaction, not just this call.
                if (sqlite3_get_autocommit(db.getHandle())) std::rethrow_exception(error);
                db.exec("ROLLBACK TO job");
            }
            db.exec("RELEASE job");
        }
        db.exec("COMMIT");
    } catch (const std::exception& e) {
        // Nothing of this batch is stored: every caller gets the error.
        auto original = std::current_exception();
        auto error = translate(original, db);
        // A full disk is logged once, when it fills; app errors are the callers' to report.
        if (error == original && !dynamic_cast<const app_error*>(&e))
            spdlog::error("database batch of {} failed: {}", batch.size(), e.what());
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
