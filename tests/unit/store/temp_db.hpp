#pragma once
// A migrated SQLite store on a real database file in a directory of its own, removed afterwards.
#include <filesystem>
#include <memory>

#include "store/sqlite/sqlite_store.hpp"
#include "util/random.hpp"

namespace chatd::testing {

struct temp_db {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("chatd-test-" + random_hex(6));
    std::unique_ptr<store::sqlite_store> sqlite;  // for what only SQLite has: its connection
    store::store* st = nullptr;                   // the same store, as the daemon sees it
    temp_db() {
        std::filesystem::create_directories(dir);
        sqlite = std::make_unique<store::sqlite_store>((dir / "t.db").string());
        st = sqlite.get();
        st->migrate();
    }
    ~temp_db() {
        sqlite.reset();
        std::filesystem::remove_all(dir);
    }
};

}  // namespace chatd::testing
