#pragma once
// What operators read and change about the site as a whole: status counts, run-time settings,
// the audit log (and its writing), daily figures and online backups.
#include <boost/asio/awaitable.hpp>
#include <string>
#include <utility>
#include <vector>

#include "config/settings.hpp"
#include "store/database.hpp"

namespace chatd::ops {

class site_admin {
public:
    site_admin(store::database& db, settings& site) : db_(db), site_(site) {}

    boost::asio::awaitable<store::status_counts> counts();
    // Appends to the audit log: operators' changes and the system's own (a key re-checked back).
    boost::asio::awaitable<void> record(store::audit_row entry);
    // The system's own entry for a key its re-check found working again.
    boost::asio::awaitable<void> record_key_recovered(std::int64_t key_id, std::int64_t now);
    // Validates (invalid_params naming the problem), stores, then applies a setting. Returns the
    // value before and the normalised value now.
    boost::asio::awaitable<std::pair<std::string, std::string>> set_setting(std::string key, std::string value);
    // Takes in the settings as other instances sharing the database left them.
    boost::asio::awaitable<void> refresh_settings();
    boost::asio::awaitable<store::page<store::audit_row>> audit_log(store::page_cursor page);
    // The last `days` days up to `now`, oldest first.
    boost::asio::awaitable<std::vector<store::day_stats>> stats(int days, std::int64_t now);
    // The same period's usage, cost and credits per model, most asked first.
    boost::asio::awaitable<std::vector<store::model_usage>> usage_by_model(int days, std::int64_t now);
    // A consistent copy into a new file at `path`; returns its size in bytes.
    boost::asio::awaitable<std::int64_t> backup(std::string path);

private:
    store::database& db_;
    settings& site_;
};

}  // namespace chatd::ops
