#pragma once
// chatctl backup on PostgreSQL: pg_dump's custom format (pg_restore reads it back).
#include <cstdint>
#include <string>

#include "store/postgres/pg.hpp"

namespace chatd::store::pg {

// Dumps the database `c` is connected to into a new file `path` with pg_dump, handing it the
// connection's settings through its environment (never on a command line others can read).
// Returns the file's size; throws app_error with pg_dump's own words when it fails.
std::int64_t dump(connection& c, const std::string& path);

}  // namespace chatd::store::pg
