// What the operator offers: models, roles, preset questions; and run-time settings.
#include "store/postgres/postgres_store.hpp"
#include "store/postgres/values.hpp"
#include "util/app_error.hpp"

namespace chatd::store {

using namespace pg;

namespace {

role_row read_role(const result& r, int row) {
    return {i64(r, row, 0), str(r, row, 1), str(r, row, 2), str(r, row, 3),
            static_cast<int>(i64(r, row, 4)), flag(r, row, 5)};
}

}  // namespace

std::vector<model_row> postgres_store::models() {
    // Ids order as bytes, as in SQLite, whatever the database's collation.
    auto r = db_.exec(
        "SELECT id, name, upstream_model, cost, max_messages, max_context_chars, enabled, sort, vision, "
        "max_tokens, stream_usage, price_in, price_out, image_cost, reasoning FROM models "
        "ORDER BY sort, id COLLATE \"C\"");
    std::vector<model_row> out;
    for (int row = 0; row < r.rows(); ++row) {
        model_row m;
        m.id = str(r, row, 0);
        m.name = str(r, row, 1);
        m.upstream_model = str(r, row, 2);
        m.cost = static_cast<int>(i64(r, row, 3));
        m.max_messages = static_cast<int>(i64(r, row, 4));
        m.max_context_chars = static_cast<int>(i64(r, row, 5));
        m.enabled = flag(r, row, 6);
        m.sort = static_cast<int>(i64(r, row, 7));
        m.vision = flag(r, row, 8);
        m.max_tokens = static_cast<int>(i64(r, row, 9));
        m.stream_usage = str(r, row, 10);
        m.price_in = real(r, row, 11);
        m.price_out = real(r, row, 12);
        m.image_cost = static_cast<int>(i64(r, row, 13));
        m.reasoning = flag(r, row, 14);
        out.push_back(std::move(m));
    }
    return out;
}

void postgres_store::upsert_model(const model_row& m) {
    db_.exec("INSERT INTO models (id, name, upstream_model, cost, max_messages, max_context_chars, enabled, sort, "
             "vision, max_tokens, stream_usage, price_in, price_out, image_cost, reasoning) "
             "VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15) "
             "ON CONFLICT (id) DO UPDATE SET name = EXCLUDED.name, upstream_model = EXCLUDED.upstream_model, "
             "cost = EXCLUDED.cost, max_messages = EXCLUDED.max_messages, "
             "max_context_chars = EXCLUDED.max_context_chars, enabled = EXCLUDED.enabled, sort = EXCLUDED.sort, "
             "vision = EXCLUDED.vision, max_tokens = EXCLUDED.max_tokens, stream_usage = EXCLUDED.stream_usage, "
             "price_in = EXCLUDED.price_in, price_out = EXCLUDED.price_out, image_cost = EXCLUDED.image_cost, "
             "reasoning = EXCLUDED.reasoning",
             {p(m.id), p(m.name), p(m.upstream_model), p(m.cost), p(m.max_messages), p(m.max_context_chars),
              p(m.enabled), p(m.sort), p(m.vision), p(m.max_tokens), p(m.stream_usage), p(m.price_in),
              p(m.price_out), p(m.image_cost), p(m.reasoning)});
}

bool postgres_store::mark_model_reasoning(const std::string& id) {
    return db_.exec("UPDATE models SET reasoning = 1 WHERE id = $1 AND reasoning = 0", {p(id)}).affected() > 0;
}

bool postgres_store::remove_model(const std::string& id) {
    return db_.exec("DELETE FROM models WHERE id = $1", {p(id)}).affected() > 0;
}

std::vector<role_row> postgres_store::roles() {
    auto r = db_.exec("SELECT id, name, description, prompt, sort, enabled FROM roles ORDER BY sort, id");
    std::vector<role_row> out;
    for (int row = 0; row < r.rows(); ++row) out.push_back(read_role(r, row));
    return out;
}

std::optional<role_row> postgres_store::role(id_t id) {
    auto r = db_.exec("SELECT id, name, description, prompt, sort, enabled FROM roles WHERE id = $1", {p(id)});
    if (r.rows() == 0) return std::nullopt;
    return read_role(r, 0);
}

id_t postgres_store::upsert_role(const role_row& in) {
    if (in.id) {
        auto r = db_.exec("UPDATE roles SET name = $1, description = $2, prompt = $3, sort = $4, enabled = $5 "
                          "WHERE id = $6",
                          {p(in.name), p(in.description), p(in.prompt), p(in.sort), p(in.enabled),
                           p(in.id)});
        if (r.affected() == 0) throw app_error("not_found", "no such role");
        return in.id;
    }
    auto r = db_.exec("INSERT INTO roles (name, description, prompt, sort, enabled) VALUES ($1, $2, $3, $4, $5) "
                      "RETURNING id",
                      {p(in.name), p(in.description), p(in.prompt), p(in.sort), p(in.enabled)});
    return i64(r, 0, 0);
}

bool postgres_store::remove_role(id_t id) {
    return db_.exec("DELETE FROM roles WHERE id = $1", {p(id)}).affected() > 0;
}

std::vector<preset_row> postgres_store::presets() {
    auto r = db_.exec("SELECT id, text, sort FROM presets ORDER BY sort, id");
    std::vector<preset_row> out;
    for (int row = 0; row < r.rows(); ++row)
        out.push_back({i64(r, row, 0), str(r, row, 1), static_cast<int>(i64(r, row, 2))});
    return out;
}

id_t postgres_store::upsert_preset(const preset_row& preset) {
    if (preset.id) {
        auto r = db_.exec("UPDATE presets SET text = $1, sort = $2 WHERE id = $3",
                          {p(preset.text), p(preset.sort), p(preset.id)});
        if (r.affected() == 0) throw app_error("not_found", "no such preset");
        return preset.id;
    }
    auto r = db_.exec("INSERT INTO presets (text, sort) VALUES ($1, $2) RETURNING id",
                      {p(preset.text), p(preset.sort)});
    return i64(r, 0, 0);
}

bool postgres_store::remove_preset(id_t id) {
    return db_.exec("DELETE FROM presets WHERE id = $1", {p(id)}).affected() > 0;
}

std::map<std::string, std::string> postgres_store::settings() {
    auto r = db_.exec("SELECT key, value FROM settings");
    std::map<std::string, std::string> out;
    for (int row = 0; row < r.rows(); ++row) out[str(r, row, 0)] = str(r, row, 1);
    return out;
}

void postgres_store::set_setting(const std::string& key, const std::string& value) {
    db_.exec("INSERT INTO settings (key, value) VALUES ($1, $2) ON CONFLICT (key) DO UPDATE SET value = EXCLUDED.value",
             {p(key), p(value)});
}

}  // namespace chatd::store
