#pragma once
// An exclusive lock on a file (flock), held for the lifetime of the object: a second process
// asking for the same lock is refused at once. The kernel drops it when the holder dies, so a
// crash never leaves a stale lock behind.
#include <optional>
#include <string>

namespace chatd {

class file_lock {
public:
    // The lock, or nullopt when another live process holds it. Writes our pid into the file so
    // the refused process can name the holder. Throws std::runtime_error if the file cannot be
    // opened.
    static std::optional<file_lock> try_acquire(const std::string& path);
    // The pid written by the current holder, or 0.
    static long holder_pid(const std::string& path);

    file_lock(file_lock&& other) noexcept;
    file_lock& operator=(file_lock&& other) noexcept;
    file_lock(const file_lock&) = delete;
    file_lock& operator=(const file_lock&) = delete;
    ~file_lock();

private:
    explicit file_lock(int fd) : fd_(fd) {}
    int fd_ = -1;
};

}  // namespace chatd
