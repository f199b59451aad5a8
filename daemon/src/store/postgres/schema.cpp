#include "store/postgres/schema.hpp"

#include "store/migrations.hpp"

namespace chatd::store::pg {

int schema_version(connection& c) {
    auto exists = c.exec("SELECT to_regclass('chatd_schema') IS NOT NULL");
    if (exists.text(0, 0) != "t") return 0;
    auto v = c.exec("SELECT version FROM chatd_schema");
    return v.rows() ? static_cast<int>(v.integer(0, 0)) : 0;
}

namespace {

// One version's tables and its number; `from` is the version the database is at.
void apply(connection& c, const migration& m, int from) {
    if (from == 0) c.exec("CREATE TABLE chatd_schema (version BIGINT NOT NULL)");
    c.exec(m.postgres_sql);
    c.exec(from == 0 ? "INSERT INTO chatd_schema (version) VALUES ($1)" : "UPDATE chatd_schema SET version = $1",
           {std::to_string(m.version)});
}

}  // namespace

void create_schema(connection& c) {
    int current = 0;
    for (const auto& m : migrations()) {
        apply(c, m, current);
        current = m.version;
    }
}

int migrate(connection& c) {
    auto key = std::to_string(static_cast<std::int64_t>(lock_key::migrate));
    c.exec("SELECT pg_advisory_lock($1)", {key});
    struct unlock {
        connection& c;
        std::string key;
        ~unlock() {
            try {
                c.exec("SELECT pg_advisory_unlock($1)", {key});
            } catch (const error&) {
                // Gone with the connection.
            }
        }
    } unlock_on_exit{c, key};

    int current = schema_version(c);
    for (const auto& m : migrations()) {
        if (m.version <= current) continue;
        transaction t(c);
        apply(c, m, current);
        t.commit();
        current = m.version;
    }
    return current;
}

}  // namespace chatd::store::pg
