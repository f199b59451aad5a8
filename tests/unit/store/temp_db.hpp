#pragma once
// A migrated SQLite store on a real database file in a directory of its own, removed afterwards.
#include <filesystem>
#include <memory>

#include "billing/credits.hpp"
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

// A password user with `trial` credits, welcomed as the daemon welcomes one.
inline store::user_row new_user(store::store& st, const std::string& name, std::int64_t trial, std::int64_t now) {
    auto id = st.create_password_user(name, "hash", false, now).id;
    billing::welcome_new_user(st, id, trial, "", 0, now);
    return *st.user_by_id(id);
}

}  // namespace chatd::testing
