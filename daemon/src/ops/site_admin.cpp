#include "ops/site_admin.hpp"

#include <boost/json.hpp>
#include <stdexcept>

#include "util/app_error.hpp"

namespace chatd::ops {

using boost::asio::awaitable;

awaitable<store::status_counts> site_admin::counts() {
    co_return co_await db_.read([](store::store& st) { return st.counts(); });
}

awaitable<void> site_admin::record(store::audit_row entry) {
    co_await db_.run([entry = std::move(entry)](store::store& st) {
        st.audit(entry);
        return 0;
    });
}

awaitable<void> site_admin::record_key_recovered(std::int64_t key_id, std::int64_t now) {
    namespace json = boost::json;
    co_await record({.at = now, .actor = "system", .via = "socket", .method = "admin.keys.recheck",
                     .params = json::serialize(json::object{{"id", key_id}, {"result", "active"}})});
}

awaitable<std::pair<std::string, std::string>> site_admin::set_setting(std::string key, std::string value) {
    std::string normalised;
    try {
        normalised = site_.validate(key, value);
    } catch (const std::invalid_argument& e) {
        throw app_error("invalid_params", e.what());
    }
    co_await db_.run([key, normalised](store::store& st) {
        st.set_setting(key, normalised);
        return 0;
    });
    auto before = site_.get(key);
    site_.put(key, normalised);
    db_.announce(store::news::settings);
    co_return std::pair{before, normalised};
}

awaitable<void> site_admin::refresh_settings() {
    site_.load(co_await db_.run([](store::store& st) { return st.settings(); }));
}

awaitable<store::page<store::audit_row>> site_admin::audit_log(store::page_cursor page) {
    // On the writer, after the audit rows queued before it: a change's row is written without
    // the change waiting for it, and the operator who just made one expects to see it.
    co_return co_await db_.run([page](store::store& st) {
        store::page<store::audit_row> out;
        out.items = st.audit_log(page, out.next);
        return out;
    });
}

awaitable<std::vector<store::day_stats>> site_admin::stats(int days, std::int64_t now) {
    co_return co_await db_.read([days, now](store::store& st) { return st.stats(days, now); });
}

awaitable<std::vector<store::model_usage>> site_admin::usage_by_model(int days, std::int64_t now) {
    co_return co_await db_.read([days, now](store::store& st) { return st.usage_by_model(days, now); });
}

awaitable<std::int64_t> site_admin::backup(std::string path) {
    co_return co_await db_.run_alone([path](store::store& st) { return st.backup_to(path); });
}

}  // namespace chatd::ops
