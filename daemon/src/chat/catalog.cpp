#include "chat/catalog.hpp"

#include "chat/chat_service.hpp"
#include "util/app_error.hpp"

namespace chatd::chat {

using boost::asio::awaitable;

awaitable<void> catalog::save_model(store::model_row m) {
    auto all = co_await db_.run([m = std::move(m)](store::store& st) {
        st.upsert_model(m);
        return st.models();
    });
    chat_.set_models(std::move(all));
    db_.announce(store::news::models);
}

awaitable<void> catalog::remove_model(std::string id) {
    auto all = co_await db_.run([id = std::move(id)](store::store& st) {
        if (!st.remove_model(id)) throw app_error("not_found", "no such model");
        return st.models();
    });
    chat_.set_models(std::move(all));
    db_.announce(store::news::models);
}

awaitable<void> catalog::refresh_models() {
    chat_.set_models(co_await db_.run([](store::store& st) { return st.models(); }));
}

// Listings every page load asks for: read beside the writer, never queued behind questions.
awaitable<std::vector<store::role_row>> catalog::roles() {
    co_return co_await db_.read([](store::store& st) { return st.roles(); });
}

awaitable<std::optional<store::role_row>> catalog::role(store::id_t id) {
    co_return co_await db_.read([id](store::store& st) { return st.role(id); });
}

awaitable<store::id_t> catalog::save_role(store::role_row r) {
    co_return co_await db_.run([r = std::move(r)](store::store& st) { return st.upsert_role(r); });
}

awaitable<bool> catalog::remove_role(store::id_t id) {
    co_return co_await db_.run([id](store::store& st) { return st.remove_role(id); });
}

awaitable<std::vector<store::preset_row>> catalog::presets() {
    co_return co_await db_.read([](store::store& st) { return st.presets(); });
}

awaitable<std::optional<store::preset_row>> catalog::preset(store::id_t id) {
    for (auto& p : co_await presets())
        if (p.id == id) co_return p;
    co_return std::nullopt;
}

awaitable<store::id_t> catalog::save_preset(store::preset_row p) {
    co_return co_await db_.run([p = std::move(p)](store::store& st) { return st.upsert_preset(p); });
}

awaitable<bool> catalog::remove_preset(store::id_t id) {
    co_return co_await db_.run([id](store::store& st) { return st.remove_preset(id); });
}

}  // namespace chatd::chat
