#pragma once
#include <string_view>
#include <vector>

namespace chatd::store {

struct migration {
    int version;
    std::string_view name;
    std::string_view sql;
};

// Embedded at build time from store/migrations/NNN_name.sql, ordered by version.
const std::vector<migration>& migrations();

}  // namespace chatd::store
