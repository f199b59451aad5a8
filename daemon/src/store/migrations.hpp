#pragma once
#include <string_view>
#include <vector>

namespace chatd::store {

struct migration {
    int version;
    std::string_view name;
    std::string_view sql;           // SQLite
    std::string_view postgres_sql;  // the same version for PostgreSQL
};

// Embedded at build time from store/migrations/NNN_name.sql and its twin in
// store/postgres/migrations/, ordered by version.
const std::vector<migration>& migrations();

}  // namespace chatd::store
