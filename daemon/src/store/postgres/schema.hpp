#pragma once
// The chatd schema in a PostgreSQL database: its version and the migrations that bring it up to
// date, from the same list of versions as SQLite's (store/migrations.hpp).
#include "store/postgres/pg.hpp"

namespace chatd::store::pg {

// Session advisory lock keys: what one instance at a time may do.
enum class lock_key : std::int64_t {
    migrate = 0x63686174640001,  // "chatd" 1
    jobs = 0x63686174640100,     // plus a background_job's value: who runs that job
};

// 0 when the database holds no chatd schema.
int schema_version(connection& c);

// Creates every version's tables in an empty database, inside the caller's transaction.
void create_schema(connection& c);

// Applies every newer version, each in its own transaction, under the migrate lock so that
// instances starting together migrate once. Returns the version reached.
int migrate(connection& c);

}  // namespace chatd::store::pg
