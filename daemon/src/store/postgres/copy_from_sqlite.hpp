#pragma once
// `chatctl migrate --to postgres`: copies a stopped SQLite database into an empty PostgreSQL
// one in a single transaction, every id kept, and proves the copy before it commits; the
// uploads' bytes go into the `blobs` table, which instances sharing the database read.
#include <cstdint>
#include <functional>
#include <optional>
#include <ostream>
#include <stdexcept>
#include <string>
#include <vector>

namespace chatd::store::pg {

// The copy was not attempted (wrong source, non-empty target); nothing was written.
struct copy_refused : std::runtime_error {
    using std::runtime_error::runtime_error;
};

struct ledger_check {
    std::int64_t rows = 0, trial = 0, paid = 0;  // the ledger's rows and the sums of its deltas
    std::int64_t balances = 0;                    // trial + paid credits held by every user
    std::int64_t users_off = 0;                   // users whose balance is not their ledger's sum
    bool operator==(const ledger_check&) const = default;
};

struct copy_report {
    int schema_version = 0;
    struct table {
        std::string name;
        std::int64_t sqlite_rows = 0, postgres_rows = 0;
    };
    std::vector<table> tables;  // in the order they were copied
    ledger_check sqlite_ledger, postgres_ledger;
    // Uploads' files (one per distinct hash) copied into `blobs`, and those not found or whose
    // bytes no longer match their hash.
    std::int64_t files_copied = 0, files_missing = 0;
    std::string files_from;  // where they were read
};

// The bytes of an upload's file by its hash; nullopt when there is none.
using blob_reader = std::function<std::optional<std::string>(const std::string& hash)>;

// Throws copy_refused, or the database's error after rolling everything back. `read_blob`
// reads the source's uploads' files, found in `files_from`.
copy_report copy_from_sqlite(const std::string& sqlite_file, const std::string& postgres_url,
                             const blob_reader& read_blob, const std::string& files_from);

void print(const copy_report& r, std::ostream& out);

}  // namespace chatd::store::pg
