#include "store/postgres/copy_from_sqlite.hpp"

#include <SQLiteCpp/SQLiteCpp.h>

#include <algorithm>
#include <charconv>
#include <filesystem>
#include <functional>
#include <map>
#include <set>

#include "store/migrations.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/schema.hpp"
#include "store/postgres/values.hpp"
#include "util/random.hpp"

namespace chatd::store::pg {
namespace {

// SQLite tables PostgreSQL does without: the log search is a trigram index over messages there.
bool sqlite_only(const std::string& table) {
    return table.starts_with("message_search") || table == "search_backfill" || table == "search_queue";
}

std::vector<std::string> sqlite_tables(SQLite::Database& db) {
    std::vector<std::string> out;
    SQLite::Statement q(db, "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'");
    while (q.executeStep()) {
        auto name = q.getColumn(0).getString();
        if (!sqlite_only(name)) out.push_back(name);
    }
    return out;
}

std::vector<std::string> sqlite_columns(SQLite::Database& db, const std::string& table) {
    std::vector<std::string> out;
    SQLite::Statement q(db, "SELECT name FROM pragma_table_info(?) ORDER BY cid");
    q.bind(1, table);
    while (q.executeStep()) out.push_back(q.getColumn(0).getString());
    return out;
}

std::set<std::string> postgres_columns(connection& c, const std::string& table) {
    std::set<std::string> out;
    auto r = c.exec("SELECT column_name FROM information_schema.columns WHERE table_schema = current_schema() "
                    "AND table_name = $1", {table});
    for (int i = 0; i < r.rows(); ++i) out.emplace(r.text(i, 0));
    return out;
}

// Referenced tables first, so that every foreign key finds its row already copied.
std::vector<std::string> in_reference_order(SQLite::Database& db, const std::vector<std::string>& tables) {
    std::map<std::string, std::set<std::string>> refs;
    for (const auto& t : tables) {
        SQLite::Statement q(db, "SELECT DISTINCT \"table\" FROM pragma_foreign_key_list(?)");
        q.bind(1, t);
        while (q.executeStep())
            if (auto r = q.getColumn(0).getString(); r != t) refs[t].insert(r);
    }
    std::vector<std::string> order;
    std::set<std::string> placed, visiting;
    std::function<void(const std::string&)> place = [&](const std::string& t) {
        if (placed.contains(t)) return;
        if (!visiting.insert(t).second) throw copy_refused("foreign keys form a cycle through table " + t);
        for (const auto& r : refs[t]) place(r);
        placed.insert(t);
        order.push_back(t);
    };
    for (const auto& t : tables) place(t);
    return order;
}

param sqlite_value(const SQLite::Column& v, const std::string& where) {
    if (v.isNull()) return std::nullopt;
    if (v.isInteger()) return std::to_string(v.getInt64());
    if (v.isFloat()) {
        char buf[32];
        auto [end, ec] = std::to_chars(buf, buf + sizeof buf, v.getDouble());  // shortest exact form
        return std::string(buf, end);
    }
    if (v.isText()) return v.getString();
    throw copy_refused(where + " holds binary data, which no chatd column does");
}

std::int64_t count_rows(SQLite::Database& db, const std::string& table) {
    return db.execAndGet("SELECT count(*) FROM " + quote_identifier(table)).getInt64();
}

std::int64_t count_rows(connection& c, const std::string& table) {
    return c.exec("SELECT count(*) FROM " + quote_identifier(table)).integer(0, 0);
}

constexpr const char* ledger_totals =
    "SELECT count(*), coalesce(sum(delta_trial), 0), coalesce(sum(delta_paid), 0) FROM ledger";
constexpr const char* ledger_balances =
    "SELECT coalesce(sum(trial_credits + paid_credits), 0), coalesce(sum(CASE WHEN trial_credits + paid_credits <> "
    "(SELECT coalesce(sum(delta_trial + delta_paid), 0) FROM ledger l WHERE l.user_id = u.id) THEN 1 ELSE 0 END), 0) "
    "FROM users u";

// The first row of `sql`, its columns as integers, from either database.
std::vector<std::int64_t> first_row(SQLite::Database& db, const char* sql) {
    SQLite::Statement q(db, sql);
    q.executeStep();
    std::vector<std::int64_t> out;
    for (int i = 0; i < q.getColumnCount(); ++i) out.push_back(q.getColumn(i).getInt64());
    return out;
}

std::vector<std::int64_t> first_row(connection& c, const char* sql) {
    auto r = c.exec(sql);
    std::vector<std::int64_t> out;
    for (int i = 0; i < r.columns(); ++i) out.push_back(r.integer(0, i));
    return out;
}

template <class Database>
ledger_check check_ledger(Database& db) {
    auto totals = first_row(db, ledger_totals);
    auto balances = first_row(db, ledger_balances);
    return {.rows = totals[0], .trial = totals[1], .paid = totals[2], .balances = balances[0],
            .users_off = balances[1]};
}

void refuse_unless_empty(connection& c) {
    auto r = c.exec("SELECT count(*), string_agg(relname, ', ' ORDER BY relname) FROM pg_class k "
                    "JOIN pg_namespace n ON n.oid = k.relnamespace WHERE n.nspname = current_schema() "
                    "AND k.relkind IN ('r', 'p', 'v', 'm', 'S', 'f')");
    if (auto n = r.integer(0, 0); n > 0) {
        std::string names(r.text(0, 1));
        if (names.size() > 120) names = names.substr(0, 120) + "…";
        throw copy_refused("the target database is not empty (" + std::to_string(n) + " relations: " + names +
                           "); chatd copies only into an empty database and left this one untouched");
    }
}

// Identity columns continue after the highest id copied, so new rows never collide.
void advance_identities(connection& c) {
    auto ids = c.exec("SELECT table_name, column_name FROM information_schema.columns "
                      "WHERE table_schema = current_schema() AND is_identity = 'YES'");
    for (int i = 0; i < ids.rows(); ++i) {
        std::string table(ids.text(i, 0)), column(ids.text(i, 1));
        c.exec("SELECT setval(pg_get_serial_sequence($1, $2), coalesce(max(" + quote_identifier(column) +
                   "), 0) + 1, false) FROM " + quote_identifier(table),
               {quote_identifier(table), column});
    }
}

// Each distinct upload's bytes into `blobs`. A missing or damaged file is counted, not
// refused: its upload could not be served on SQLite either, and refusing would hold every
// other row hostage to a loss that has already happened.
void copy_files(SQLite::Database& src, connection& dst, const blob_reader& read_blob, copy_report& report) {
    SQLite::Statement hashes(src, "SELECT DISTINCT hash FROM uploads ORDER BY hash");
    while (hashes.executeStep()) {
        auto hash = hashes.getColumn(0).getString();
        auto bytes = read_blob(hash);
        if (!bytes || sha256_hex(*bytes) != hash) {
            ++report.files_missing;
            continue;
        }
        dst.exec("INSERT INTO blobs (hash, bytes) VALUES ($1, decode($2, 'hex'))", {hash, hex_of(*bytes)});
        ++report.files_copied;
    }
    for (auto& t : report.tables)
        if (t.name == "blobs") t.postgres_rows = count_rows(dst, "blobs");
}

}  // namespace

copy_report copy_from_sqlite(const std::string& sqlite_file, const std::string& postgres_url,
                             const blob_reader& read_blob, const std::string& files_from) {
    if (!std::filesystem::is_regular_file(sqlite_file)) throw copy_refused("no database file at " + sqlite_file);
    SQLite::Database src(sqlite_file, SQLite::OPEN_READONLY);
    copy_report report;
    report.schema_version = src.execAndGet("PRAGMA user_version").getInt();
    const int latest = migrations().back().version;
    if (report.schema_version == 0) throw copy_refused(sqlite_file + " is not a chatd database");
    if (report.schema_version != latest)
        throw copy_refused(sqlite_file + " is at schema version " + std::to_string(report.schema_version) +
                           " and this chatd writes version " + std::to_string(latest) +
                           ": start this chatd on it once (it upgrades the file), stop it, then copy");

    connection dst(postgres_url);
    refuse_unless_empty(dst);

    SQLite::Transaction snapshot(src);  // every table read from one moment of the file
    transaction t(dst);
    create_schema(dst);

    auto tables = in_reference_order(src, sqlite_tables(src));
    auto target = dst.exec("SELECT tablename FROM pg_tables WHERE schemaname = current_schema() AND tablename <> 'chatd_schema'");
    std::set<std::string> postgres_tables;
    for (int i = 0; i < target.rows(); ++i) postgres_tables.emplace(target.text(i, 0));
    if (postgres_tables != std::set<std::string>(tables.begin(), tables.end()))
        throw copy_refused("the two schemas hold different tables; is " + sqlite_file + " from another chatd version?");

    // The migrations' seed rows (models, roles, presets) make way for the file's own.
    for (auto it = tables.rbegin(); it != tables.rend(); ++it)
        if (count_rows(dst, *it) > 0) dst.exec("DELETE FROM " + quote_identifier(*it));

    for (const auto& table : tables) {
        auto columns = sqlite_columns(src, table);
        auto known = postgres_columns(dst, table);
        for (const auto& c : columns)
            if (!known.contains(c)) throw copy_refused("PostgreSQL has no column " + table + "." + c);
        std::string select = "SELECT ";
        for (std::size_t i = 0; i < columns.size(); ++i) select += (i ? ", " : "") + quote_identifier(columns[i]);
        SQLite::Statement rows(src, select + " FROM " + quote_identifier(table));
        auto copy = dst.copy(table, columns);
        std::vector<param> values(columns.size());
        while (rows.executeStep()) {
            for (int i = 0; i < static_cast<int>(columns.size()); ++i)
                values[i] = sqlite_value(rows.getColumn(i), table + "." + columns[i]);
            copy.row(values);
        }
        copy.finish();
        report.tables.push_back({table, count_rows(src, table), count_rows(dst, table)});
        if (report.tables.back().sqlite_rows != report.tables.back().postgres_rows)
            throw pg::error("table " + table + " has a different number of rows after the copy; nothing was kept");
    }
    report.files_from = files_from;
    copy_files(src, dst, read_blob, report);
    advance_identities(dst);

    report.sqlite_ledger = check_ledger(src);
    report.postgres_ledger = check_ledger(dst);
    if (!(report.sqlite_ledger == report.postgres_ledger))
        throw pg::error("the ledger check differs after the copy; nothing was kept");
    t.commit();
    dst.exec("ANALYZE");
    return report;
}

void print(const copy_report& r, std::ostream& out) {
    std::size_t width = 5;
    for (const auto& t : r.tables) width = std::max(width, t.name.size());
    auto pad = [](std::string s, std::size_t w, bool right) {
        std::string fill(w > s.size() ? w - s.size() : 0, ' ');
        return right ? fill + s : s + fill;
    };
    out << pad("TABLE", width, false) << "  " << pad("SQLITE", 10, true) << "  " << pad("POSTGRES", 10, true) << "\n";
    for (const auto& t : r.tables)
        out << pad(t.name, width, false) << "  " << pad(std::to_string(t.sqlite_rows), 10, true) << "  "
            << pad(std::to_string(t.postgres_rows), 10, true) << "\n";
    const auto& l = r.postgres_ledger;
    out << "ledger check: " << l.rows << " rows, trial " << l.trial << ", paid " << l.paid << "; balances "
        << l.balances << "; users whose balance differs from their ledger: " << l.users_off
        << " — the same in both databases\n";
    out << "uploads' files: " << r.files_copied << " copied from " << r.files_from << " into blobs";
    if (r.files_missing)
        out << "; " << r.files_missing << " missing or damaged there (their uploads could not be served before "
            << "the copy either)";
    out << "\n";
}

}  // namespace chatd::store::pg
