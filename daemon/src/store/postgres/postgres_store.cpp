#include "store/postgres/postgres_store.hpp"

#include "store/postgres/schema.hpp"

namespace chatd::store {

postgres_store::postgres_store(const std::string& url, std::string instance)
    : db_(url), instance_(std::move(instance)) {}

postgres_store::~postgres_store() = default;

void postgres_store::migrate() { pg::migrate(db_); }

int postgres_store::schema_version() { return pg::schema_version(db_); }

}  // namespace chatd::store
