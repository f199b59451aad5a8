#pragma once
// Uploads' bytes on disk, named by their SHA-256: the same file uploaded twice is kept once.
// A blob lives at dir/<first two hex digits>/<hash> (a fan-out so no directory grows huge),
// written through a temporary file, fsync and rename, so it is whole or absent after a crash.
// Blocking file I/O: call it off the I/O threads. Safe to use from several threads at once.
#include <filesystem>
#include <optional>
#include <string>
#include <string_view>

namespace chatd::files {

class blob_store {
public:
    // Nothing is created until the first put.
    explicit blob_store(std::filesystem::path dir);

    // Stores `bytes` and returns their hash (64 lowercase hex digits). A blob already there is
    // left alone. Throws app_error("storage_full") when the disk (or the quota) has no room,
    // std::system_error on any other failure; nothing half-written is left behind either way.
    std::string put(std::string_view bytes);
    // The blob's bytes; nullopt when there is none by that hash.
    std::optional<std::string> read(const std::string& hash) const;
    // Where the blob is or would be.
    std::filesystem::path path_of(const std::string& hash) const;
    // Forgets the blob; nothing happens when there is none.
    void remove(const std::string& hash);

    // A hash put could have returned. Anything else is refused by every method with
    // app_error("invalid_params"), so no hash can name a path outside dir.
    static bool valid_hash(std::string_view hash);

private:
    std::filesystem::path dir_;
};

}  // namespace chatd::files
