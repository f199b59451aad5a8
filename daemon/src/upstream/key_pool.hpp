#pragma once
// The pool of upstream API keys: global round-robin over healthy keys, per-model filtering,
// and the bookkeeping that evicts, cools down and counts. In memory and thread-safe; the
// owner persists what changed (take_dirty) and loads it back on start.
#include <chrono>
#include <cstdint>
#include <map>
#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <vector>

#include "upstream/key_record.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::upstream {

struct pool_key : key_record {
    int consecutive_failures = 0;
    key_usage unsaved;  // since the last take_usage
    // When this process last added or changed the key itself: a stored copy read before then
    // is older than what the pool holds.
    std::chrono::steady_clock::time_point changed_here{};

    // What operators see: disabled by them, or the pool's own verdict at `now`.
    std::string shown_status(std::int64_t now) const;
};

struct lease {
    std::int64_t id = 0;
    std::string secret;
    std::string base_url;
    bool refuses_stream_options = false;
};

enum class verdict {
    success,
    evict,          // the key is bad for good (until re-verified)
    cool_down,      // rate limited: rest until Retry-After
    transient,      // try another key; repeated ones cool the key down
    request_fault,  // the question itself was refused: no retry, the key is fine
    cancelled,
};

verdict classify(const outcome& o);

class key_pool {
public:
    static constexpr int transient_limit = 3;          // in a row, then a cool-down
    static constexpr int transient_cooldown_s = 60;
    static constexpr int default_retry_after_s = 30;
    static constexpr int max_retry_after_s = 600;

    void load(const std::vector<key_record>& keys);
    void add(const key_record& k);  // or replace the key with the same id
    bool remove(std::int64_t id);
    bool set_enabled(std::int64_t id, bool enabled);
    // Remembers (and persists, through take_dirty) that the key's gateway refuses stream_options.
    void note_refuses_stream_options(std::int64_t id);

    // Next usable key for `model` in round-robin order, never one of `exclude`.
    std::optional<lease> pick(std::string_view model, const std::set<std::int64_t>& exclude,
                              std::int64_t now);
    bool has_candidate(std::string_view model, std::int64_t now) const;
    verdict report(std::int64_t id, const outcome& o, std::int64_t now);
    // A re-verification outside any question: success brings the key back to active (the
    // operator's disable stays), a permanent failure marks it invalid, anything else only
    // records the error. Returns the status shown afterwards.
    std::string record_test(std::int64_t id, const outcome& o, std::int64_t now);

    std::vector<pool_key> snapshot() const;
    std::vector<key_usage> take_usage();  // the keys used or changed since the last call
    // Takes in the stored keys as other processes sharing the database left them, read at
    // `read_at`: keys added and removed there, the operator's changes, health, counters (plus
    // what this process has not saved yet). What this process changed after `read_at` wins.
    void refresh(const std::vector<key_record>& stored, std::chrono::steady_clock::time_point read_at);

    struct status_change {
        std::int64_t key_id = 0;
        std::int64_t at = 0;
        std::string status, reason;
    };
    std::vector<status_change> take_changes();
    std::int64_t evictions() const;

    struct counts {
        int active = 0, cooling = 0, invalid = 0, disabled = 0;
    };
    counts count(std::int64_t now) const;

private:
    bool usable(const pool_key& k, std::string_view model, std::int64_t now) const;
    mutable std::mutex mu_;
    std::vector<pool_key> keys_;
    std::size_t next_ = 0;
    void changed(pool_key& k, std::string status, std::string reason, std::int64_t now);
    static void mark_health(pool_key& k);
    std::set<std::int64_t> dirty_;
    std::map<std::int64_t, std::chrono::steady_clock::time_point> removed_here_;
    std::vector<status_change> changes_;
    std::int64_t evictions_ = 0;
};

}  // namespace chatd::upstream
