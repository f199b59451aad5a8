#include "files/blob_store.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>
#include <utility>

#include "util/app_error.hpp"
#include "util/random.hpp"

namespace chatd::files {

namespace fs = std::filesystem;

namespace {

[[noreturn]] void fail_io(int error, const std::string& what) {
    if (error == ENOSPC || error == EDQUOT)
        throw app_error(
            "storage_full",
            "服务器磁盘已满，文件没有保存 (the server's disk is full; the file was not stored)");
    throw std::system_error(error, std::generic_category(), what);
}

class file_descriptor {
public:
    explicit file_descriptor(int fd) : fd_(fd) {}
    file_descriptor(const file_descriptor&) = delete;
    file_descriptor& operator=(const file_descriptor&) = delete;
    ~file_descriptor() {
        if (fd_ >= 0) ::close(fd_);
    }
    int get() const { return fd_; }
    // close(2) may be the first to report a failed write (NFS, quotas): its result counts.
    int close() { return ::close(std::exchange(fd_, -1)); }

private:
    int fd_;
};

// A rename or a new entry survives a crash only once its directory is synced too.
void sync_directory(const fs::path& dir) {
    file_descriptor fd(::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC));
    if (fd.get() < 0) fail_io(errno, "open " + dir.string());
    if (::fsync(fd.get()) != 0) fail_io(errno, "fsync " + dir.string());
}

// Uploads are the users' own: only chatd's user may read them.
void make_directory(const fs::path& dir) {
    if (::mkdir(dir.c_str(), 0700) == 0) return sync_directory(dir.parent_path());
    if (errno != EEXIST) fail_io(errno, "mkdir " + dir.string());
}

void write_all(int fd, std::string_view bytes, const fs::path& path) {
    while (!bytes.empty()) {
        auto n = ::write(fd, bytes.data(), bytes.size());
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_io(errno, "write " + path.string());
        }
        bytes.remove_prefix(static_cast<std::size_t>(n));
    }
}

// Removes a temporary file unless it was renamed into place.
struct temporary_file {
    fs::path path;
    bool kept = false;
    ~temporary_file() {
        if (!kept) ::unlink(path.c_str());
    }
};

void check_hash(const std::string& hash) {
    if (!blob_store::valid_hash(hash)) throw app_error("invalid_params", "not a file hash");
}

}  // namespace

blob_store::blob_store(fs::path dir) : dir_(std::move(dir)) {}

bool blob_store::valid_hash(std::string_view hash) {
    return hash.size() == 64 &&
           hash.find_first_not_of("0123456789abcdef") == std::string_view::npos;
}

fs::path blob_store::path_of(const std::string& hash) const {
    check_hash(hash);
    return dir_ / hash.substr(0, 2) / hash;
}

std::string blob_store::put(std::string_view bytes) {
    std::string hash = sha256_hex(bytes);
    fs::path target = path_of(hash);
    // A blob of the right size is the same content; any other (a damaged restore) is replaced.
    struct stat existing {};
    if (::stat(target.c_str(), &existing) == 0 &&
        static_cast<std::size_t>(existing.st_size) == bytes.size())
        return hash;

    std::error_code ec;
    fs::create_directories(dir_, ec);
    if (ec) fail_io(ec.value(), "create " + dir_.string());
    fs::path shard = target.parent_path();
    make_directory(shard);

    // A name of its own for each writer: concurrent puts of one content never share a file.
    temporary_file temp{shard / ("." + hash + "." + random_hex(8) + ".tmp")};
    file_descriptor fd(::open(temp.path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600));
    if (fd.get() < 0) fail_io(errno, "create " + temp.path.string());
    write_all(fd.get(), bytes, temp.path);
    if (::fsync(fd.get()) != 0) fail_io(errno, "fsync " + temp.path.string());
    if (fd.close() != 0) fail_io(errno, "close " + temp.path.string());
    if (::rename(temp.path.c_str(), target.c_str()) != 0)
        fail_io(errno, "rename to " + target.string());
    temp.kept = true;
    sync_directory(shard);
    return hash;
}

std::optional<std::string> blob_store::read(const std::string& hash) const {
    fs::path path = path_of(hash);
    file_descriptor fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
    if (fd.get() < 0) {
        if (errno == ENOENT) return std::nullopt;
        fail_io(errno, "open " + path.string());
    }
    struct stat info {};
    if (::fstat(fd.get(), &info) != 0) fail_io(errno, "stat " + path.string());
    std::string bytes(static_cast<std::size_t>(info.st_size), '\0');
    std::size_t done = 0;
    while (done < bytes.size()) {
        auto n = ::read(fd.get(), bytes.data() + done, bytes.size() - done);
        if (n < 0) {
            if (errno == EINTR) continue;
            fail_io(errno, "read " + path.string());
        }
        if (n == 0) break;  // shorter than its size said: never for a blob written by put
        done += static_cast<std::size_t>(n);
    }
    bytes.resize(done);
    return bytes;
}

void blob_store::remove(const std::string& hash) {
    fs::path path = path_of(hash);
    if (::unlink(path.c_str()) != 0 && errno != ENOENT) fail_io(errno, "unlink " + path.string());
}

}  // namespace chatd::files
