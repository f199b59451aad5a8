#pragma once
// A migrated store in a place of its own, removed afterwards: a SQLite file in a fresh
// directory, or — when CHATD_TEST_POSTGRES_URL names a server (tests/support/pg_server.py
// --run) — a fresh database on that PostgreSQL server. The same tests then cover both backends.
#include <cstdlib>
#include <filesystem>
#include <memory>

#include "billing/credits.hpp"
#include "store/postgres/pg.hpp"
#include "store/postgres/postgres_store.hpp"
#include "store/sqlite/sqlite_store.hpp"
#include "util/random.hpp"

namespace chatd::testing {

// The server the PostgreSQL runs use, or empty for SQLite.
inline std::string postgres_server() {
    const char* url = std::getenv("CHATD_TEST_POSTGRES_URL");
    return url ? url : "";
}

// `server`'s URL with its database replaced by `name` (server: postgresql://…/postgres).
inline std::string postgres_database_url(const std::string& server, const std::string& name) {
    return server.substr(0, server.rfind('/') + 1) + name;
}

struct temp_db {
    std::filesystem::path dir = std::filesystem::temp_directory_path() / ("chatd-test-" + random_hex(6));
    std::unique_ptr<store::sqlite_store> sqlite;      // for what only SQLite has: its connection
    std::unique_ptr<store::postgres_store> postgres;  // set instead on a PostgreSQL run
    std::string postgres_name;
    store::store* st = nullptr;  // the store, as the daemon sees it
    temp_db() {
        if (auto server = postgres_server(); !server.empty()) {
            postgres_name = "chatd_test_" + random_hex(6);
            store::pg::connection(server).exec("CREATE DATABASE " + postgres_name);
            postgres = std::make_unique<store::postgres_store>(postgres_database_url(server, postgres_name), "test:1");
            st = postgres.get();
        } else {
            std::filesystem::create_directories(dir);
            sqlite = std::make_unique<store::sqlite_store>((dir / "t.db").string());
            st = sqlite.get();
        }
        st->migrate();
    }
    // Raw SQL on whichever backend this is; throws on error.
    void exec(const std::string& sql) {
        if (postgres) postgres->connection().exec(sql);
        else sqlite->connection().exec(sql);
    }
    ~temp_db() {
        sqlite.reset();
        std::filesystem::remove_all(dir);
        postgres.reset();
        if (!postgres_name.empty())
            store::pg::connection(postgres_server()).exec("DROP DATABASE " + postgres_name + " WITH (FORCE)");
    }
};

// A password user with `trial` credits, welcomed as the daemon welcomes one.
inline store::user_row new_user(store::store& st, const std::string& name, std::int64_t trial, std::int64_t now) {
    auto id = st.create_password_user(name, "hash", false, now).id;
    billing::welcome_new_user(st, id, trial, "", 0, now);
    return *st.user_by_id(id);
}

}  // namespace chatd::testing
