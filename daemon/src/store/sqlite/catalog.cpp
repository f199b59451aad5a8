// What the operator offers: models, roles, preset questions; and run-time settings.
#include "store/sqlite/sqlite_store.hpp"

namespace chatd::store {

std::vector<model_row> sqlite_store::models() {
    stmt st = prepare(
        "SELECT id, name, upstream_model, cost, max_messages, max_context_chars, enabled, sort, vision, "
        "max_tokens, stream_usage, price_in, price_out, image_cost, reasoning FROM models ORDER BY sort, id");
    std::vector<model_row> out;
    while (st.executeStep()) {
        model_row m;
        m.id = st.getColumn(0).getString();
        m.name = st.getColumn(1).getString();
        m.upstream_model = st.getColumn(2).getString();
        m.cost = st.getColumn(3).getInt();
        m.max_messages = st.getColumn(4).getInt();
        m.max_context_chars = st.getColumn(5).getInt();
        m.enabled = st.getColumn(6).getInt() != 0;
        m.sort = st.getColumn(7).getInt();
        m.vision = st.getColumn(8).getInt() != 0;
        m.max_tokens = st.getColumn(9).getInt();
        m.stream_usage = st.getColumn(10).getString();
        m.price_in = st.getColumn(11).getDouble();
        m.price_out = st.getColumn(12).getDouble();
        m.image_cost = st.getColumn(13).getInt();
        m.reasoning = st.getColumn(14).getInt() != 0;
        out.push_back(std::move(m));
    }
    return out;
}

void sqlite_store::upsert_model(const model_row& m) {
    stmt st = prepare(
        "INSERT INTO models (id, name, upstream_model, cost, max_messages, max_context_chars, enabled, sort, "
        "vision, max_tokens, stream_usage, price_in, price_out, image_cost, reasoning) "
        "VALUES (?,?,?,?,?,?,?,?,?,?,?,?,?,?,?) ON CONFLICT(id) DO UPDATE SET name=excluded.name, "
        "upstream_model=excluded.upstream_model, cost=excluded.cost, max_messages=excluded.max_messages, "
        "max_context_chars=excluded.max_context_chars, enabled=excluded.enabled, sort=excluded.sort, "
        "vision=excluded.vision, max_tokens=excluded.max_tokens, stream_usage=excluded.stream_usage, "
        "price_in=excluded.price_in, price_out=excluded.price_out, image_cost=excluded.image_cost, "
        "reasoning=excluded.reasoning");
    st.bind(1, m.id);
    st.bind(2, m.name);
    st.bind(3, m.upstream_model);
    st.bind(4, m.cost);
    st.bind(5, m.max_messages);
    st.bind(6, m.max_context_chars);
    st.bind(7, m.enabled ? 1 : 0);
    st.bind(8, m.sort);
    st.bind(9, m.vision ? 1 : 0);
    st.bind(10, m.max_tokens);
    st.bind(11, m.stream_usage);
    st.bind(12, m.price_in);
    st.bind(13, m.price_out);
    st.bind(14, m.image_cost);
    st.bind(15, m.reasoning ? 1 : 0);
    st.exec();
}

bool sqlite_store::mark_model_reasoning(const std::string& id) {
    stmt st = prepare("UPDATE models SET reasoning = 1 WHERE id = ? AND reasoning = 0");
    st.bind(1, id);
    return st.exec() > 0;
}

bool sqlite_store::remove_model(const std::string& id) {
    stmt st = prepare("DELETE FROM models WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

std::vector<role_row> sqlite_store::roles() {
    stmt st = prepare("SELECT id, name, description, prompt, sort, enabled FROM roles ORDER BY sort, id");
    std::vector<role_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getString(),
                       st.getColumn(3).getString(), st.getColumn(4).getInt(), st.getColumn(5).getInt() != 0});
    return out;
}

std::optional<role_row> sqlite_store::role(id_t id) {
    for (auto& r : roles())
        if (r.id == id) return r;
    return std::nullopt;
}

id_t sqlite_store::upsert_role(const role_row& r) {
    if (r.id) {
        stmt st = prepare("UPDATE roles SET name=?, description=?, prompt=?, sort=?, enabled=? WHERE id=?");
        st.bind(1, r.name);
        st.bind(2, r.description);
        st.bind(3, r.prompt);
        st.bind(4, r.sort);
        st.bind(5, r.enabled ? 1 : 0);
        st.bind(6, r.id);
        if (st.exec() == 0) throw app_error("not_found", "no such role");
        return r.id;
    }
    stmt st = prepare("INSERT INTO roles (name, description, prompt, sort, enabled) VALUES (?,?,?,?,?)");
    st.bind(1, r.name);
    st.bind(2, r.description);
    st.bind(3, r.prompt);
    st.bind(4, r.sort);
    st.bind(5, r.enabled ? 1 : 0);
    st.exec();
    return db_.getLastInsertRowid();
}

bool sqlite_store::remove_role(id_t id) {
    stmt st = prepare("DELETE FROM roles WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

std::vector<preset_row> sqlite_store::presets() {
    stmt st = prepare("SELECT id, text, sort FROM presets ORDER BY sort, id");
    std::vector<preset_row> out;
    while (st.executeStep())
        out.push_back({st.getColumn(0).getInt64(), st.getColumn(1).getString(), st.getColumn(2).getInt()});
    return out;
}

id_t sqlite_store::upsert_preset(const preset_row& p) {
    if (p.id) {
        stmt st = prepare("UPDATE presets SET text=?, sort=? WHERE id=?");
        st.bind(1, p.text);
        st.bind(2, p.sort);
        st.bind(3, p.id);
        if (st.exec() == 0) throw app_error("not_found", "no such preset");
        return p.id;
    }
    stmt st = prepare("INSERT INTO presets (text, sort) VALUES (?,?)");
    st.bind(1, p.text);
    st.bind(2, p.sort);
    st.exec();
    return db_.getLastInsertRowid();
}

bool sqlite_store::remove_preset(id_t id) {
    stmt st = prepare("DELETE FROM presets WHERE id = ?");
    st.bind(1, id);
    return st.exec() > 0;
}

std::map<std::string, std::string> sqlite_store::settings() {
    stmt st = prepare("SELECT key, value FROM settings");
    std::map<std::string, std::string> out;
    while (st.executeStep()) out[st.getColumn(0).getString()] = st.getColumn(1).getString();
    return out;
}

void sqlite_store::set_setting(const std::string& key, const std::string& value) {
    stmt st = prepare(
        "INSERT INTO settings (key, value) VALUES (?,?) ON CONFLICT(key) DO UPDATE SET value=excluded.value");
    st.bind(1, key);
    st.bind(2, value);
    st.exec();
}

}  // namespace chatd::store
