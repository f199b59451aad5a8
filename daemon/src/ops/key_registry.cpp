#include "ops/key_registry.hpp"

#include "util/app_error.hpp"

namespace chatd::ops {

using boost::asio::awaitable;

awaitable<std::vector<store::id_t>> key_registry::add(new_keys keys, std::int64_t now) {
    auto [ids, rows] = co_await db_.run([k = std::move(keys), now](store::store& st) {
        auto added = st.add_keys(k.secrets, k.base_url, k.models, k.note, k.provider, now);
        return std::pair{added, st.keys()};
    });
    for (auto id : ids)
        for (auto& r : rows)
            if (r.id == id) pool_.add(r);
    db_.announce(store::news::keys);
    co_return ids;
}

awaitable<void> key_registry::remove(store::id_t id) {
    if (!co_await db_.run([id](store::store& st) { return st.remove_key(id); }))
        throw app_error("not_found", "no such key");
    pool_.remove(id);
    db_.announce(store::news::keys);
}

awaitable<void> key_registry::set_enabled(store::id_t id, bool enabled) {
    if (!co_await db_.run([id, enabled](store::store& st) { return st.set_key_enabled(id, enabled); }))
        throw app_error("not_found", "no such key");
    pool_.set_enabled(id, enabled);
    db_.announce(store::news::keys);
}

awaitable<void> key_registry::refresh() {
    // Read on the writer, after this process's queued saves: what it changed before the read
    // is in the copy, and what it changes later is newer than the copy (key_pool::refresh).
    auto read_at = std::chrono::steady_clock::now();
    auto stored = co_await db_.run([](store::store& st) { return st.keys(); });
    pool_.refresh(stored, read_at);
}

awaitable<std::vector<upstream::pool_key>> key_registry::listing() {
    if (db_.shared()) co_await refresh();
    co_return pool_.snapshot();
}

awaitable<std::vector<store::key_event_row>> key_registry::history(store::id_t id, int limit) {
    co_return co_await db_.read([id, limit](store::store& st) { return st.key_events(id, limit); });
}

}  // namespace chatd::ops
