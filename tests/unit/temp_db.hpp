#pragma once
// A migrated store on a real database file in a directory of its own, removed afterwards.
#include <filesystem>
#include <memory>

#include "store/store.hpp"
#include "util/random.hpp"

namespace chatd::testing {

struct temp_db {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("chatd-test-" + random_hex(6));
    std::unique_ptr<store::store> st;
    temp_db() {
        std::filesystem::create_directories(dir);
        st = std::make_unique<store::store>((dir / "t.db").string());
        st->migrate();
    }
    ~temp_db() {
        st.reset();
        std::filesystem::remove_all(dir);
    }
};

}  // namespace chatd::testing
