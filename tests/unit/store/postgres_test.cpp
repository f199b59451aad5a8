// What the PostgreSQL layer says about its URL and names; the copy itself runs against a real
// server in tests/integration/test_migrate_postgres.py.
#include <catch2/catch.hpp>

#include "store/migrations.hpp"
#include "store/postgres/pg.hpp"

using namespace chatd::store;

TEST_CASE("a PostgreSQL URL is shown without its password") {
    CHECK(pg::redact_url("postgresql://chatd:s3cret@db.example:5432/chatd") ==
          "postgresql://chatd:***@db.example:5432/chatd");
    CHECK(pg::redact_url("postgres://u:p%40ss@h/d?sslmode=require") == "postgres://u:***@h/d?sslmode=require");
    CHECK(pg::redact_url("host=db user=chatd password=s3cret dbname=chatd") ==
          "host=db user=chatd password=*** dbname=chatd");
    CHECK(pg::redact_url("host=db password = 'a b\\' c' dbname=x") == "host=db password = *** dbname=x");
    // Nothing to hide: unchanged.
    CHECK(pg::redact_url("postgresql://chatd@db/chatd") == "postgresql://chatd@db/chatd");
}

TEST_CASE("identifiers are quoted so that a name can never end the statement") {
    CHECK(pg::quote_identifier("users") == "\"users\"");
    CHECK(pg::quote_identifier("a\"; DROP TABLE x; --") == "\"a\"\"; DROP TABLE x; --\"");
}

TEST_CASE("every schema version exists for both backends") {
    int previous = 0;
    for (const auto& m : migrations()) {
        CHECK(m.version > previous);
        CHECK_FALSE(m.sql.empty());
        CHECK_FALSE(m.postgres_sql.empty());
        previous = m.version;
    }
    CHECK(previous >= 12);
}
