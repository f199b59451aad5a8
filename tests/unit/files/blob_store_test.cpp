#include "files/blob_store.hpp"

#include <catch2/catch.hpp>
#include <filesystem>
#include <fstream>
#include <thread>
#include <vector>

#include "util/app_error.hpp"
#include "util/random.hpp"

using namespace chatd;
namespace fs = std::filesystem;

namespace {

struct temp_dir {
    fs::path path = fs::temp_directory_path() / ("chatd-blobs-" + random_hex(6));
    ~temp_dir() { fs::remove_all(path); }
};

std::size_t files_under(const fs::path& dir) {
    std::size_t n = 0;
    for (auto& entry : fs::recursive_directory_iterator(dir)) n += entry.is_regular_file();
    return n;
}

std::string reason_of(auto&& run) {
    try {
        run();
    } catch (const app_error& e) {
        return e.reason;
    }
    return "none";
}

}  // namespace

TEST_CASE("a blob is stored once under its SHA-256 and read back byte for byte", "[files]") {
    temp_dir dir;
    files::blob_store blobs(dir.path / "files");
    CHECK_FALSE(fs::exists(dir.path / "files"));  // nothing is created before the first put

    std::string bytes = std::string("\x89PNG\r\n\x1a\n\0\xff", 10) + random_bytes(5000);
    auto hash = blobs.put(bytes);
    CHECK(hash == sha256_hex(bytes));
    CHECK(files::blob_store::valid_hash(hash));
    CHECK(blobs.path_of(hash) == dir.path / "files" / hash.substr(0, 2) / hash);
    CHECK(fs::is_regular_file(blobs.path_of(hash)));
    CHECK((fs::status(blobs.path_of(hash)).permissions() & fs::perms::others_read) ==
          fs::perms::none);
    CHECK(blobs.read(hash) == bytes);

    auto written = fs::last_write_time(blobs.path_of(hash));
    CHECK(blobs.put(bytes) == hash);
    CHECK(files_under(dir.path) == 1);
    CHECK(fs::last_write_time(blobs.path_of(hash)) == written);  // left alone

    CHECK(blobs.read(blobs.put("")) == std::string());
    CHECK(files_under(dir.path) == 2);
}

TEST_CASE("a removed blob is gone; removing it again is no error", "[files]") {
    temp_dir dir;
    files::blob_store blobs(dir.path);
    auto hash = blobs.put("some text");
    blobs.remove(hash);
    CHECK_FALSE(blobs.read(hash));
    CHECK_FALSE(fs::exists(blobs.path_of(hash)));
    CHECK_NOTHROW(blobs.remove(hash));
    CHECK_FALSE(blobs.read(sha256_hex("never stored")));
    // Stored again after removal.
    CHECK(blobs.put("some text") == hash);
    CHECK(blobs.read(hash) == "some text");
}

TEST_CASE("a damaged blob (wrong size) is replaced by the next put", "[files]") {
    temp_dir dir;
    files::blob_store blobs(dir.path);
    auto hash = blobs.put("the whole content");
    fs::resize_file(blobs.path_of(hash), 3);
    CHECK(blobs.put("the whole content") == hash);
    CHECK(blobs.read(hash) == "the whole content");
}

TEST_CASE("only well-formed hashes name blobs: no path leaves the directory", "[files]") {
    temp_dir dir;
    files::blob_store blobs(dir.path / "files");
    std::string good = sha256_hex("x");
    for (std::string bad : {std::string(), std::string("../../etc/passwd"), good.substr(1),
                            good + "0", std::string(64, 'A'), "../" + good.substr(3),
                            good.substr(0, 63) + "/", good.substr(0, 63) + "g"}) {
        CAPTURE(bad);
        CHECK_FALSE(files::blob_store::valid_hash(bad));
        CHECK(reason_of([&] { blobs.path_of(bad); }) == "invalid_params");
        CHECK(reason_of([&] { blobs.read(bad); }) == "invalid_params");
        CHECK(reason_of([&] { blobs.remove(bad); }) == "invalid_params");
    }
}

TEST_CASE("concurrent puts of one content leave one whole blob and no temporary file", "[files]") {
    temp_dir dir;
    files::blob_store blobs(dir.path);
    std::string bytes = random_bytes(256 * 1024);
    std::string other = random_bytes(1000);
    std::vector<std::string> hashes(8);
    std::vector<std::thread> writers;
    for (std::size_t i = 0; i < hashes.size(); ++i)
        writers.emplace_back([&, i] {
            for (int round = 0; round < 5; ++round) hashes[i] = blobs.put(i % 2 ? bytes : other);
        });
    for (auto& t : writers) t.join();
    for (std::size_t i = 0; i < hashes.size(); ++i)
        CHECK(hashes[i] == sha256_hex(i % 2 ? bytes : other));
    CHECK(files_under(dir.path) == 2);
    CHECK(blobs.read(sha256_hex(bytes)) == bytes);
    CHECK(blobs.read(sha256_hex(other)) == other);
}

TEST_CASE("a directory that cannot be written is an error, not a half-written blob", "[files]") {
    temp_dir dir;
    fs::create_directories(dir.path);
    // A file where the store's directory should be: nothing can be created under it.
    files::blob_store blobs(dir.path / "not-a-directory");
    { std::ofstream(dir.path / "not-a-directory") << "x"; }
    CHECK_THROWS_AS(blobs.put("bytes"), std::system_error);
    CHECK(files_under(dir.path) == 1);
}
