#pragma once
// An upstream API key as the operator added it and as its health stands: the one record the
// key pool works with and the store persists.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

namespace chatd::upstream {

struct key_record {
    std::int64_t id = 0;
    std::string secret;
    std::string base_url;             // empty = the configured default
    std::vector<std::string> models;  // empty = serves every model
    std::string provider = "openai";  // upstream/providers.hpp
    std::string note;
    bool enabled = true;
    std::string status = "active";  // active | cooling | invalid
    std::string reason;
    std::optional<std::int64_t> cooldown_until;
    std::int64_t requests = 0, failures = 0, tokens_in = 0, tokens_out = 0;
    std::optional<std::int64_t> last_used_at;
    std::string last_error;
    std::int64_t created_at = 0;
    // Learnt, not configured: the key's gateway refused stream_options once, so questions on it
    // go without (models with stream_usage "auto").
    bool refuses_stream_options = false;
};

// What one process's use of a key changed since it last saved: its counters grow by these
// amounts (each process sharing the database adds its own), and its health is written only
// when this process changed it, so a process that merely used a key never undoes another's
// eviction.
struct key_usage {
    std::int64_t id = 0;
    std::int64_t requests = 0, failures = 0, tokens_in = 0, tokens_out = 0;
    std::optional<std::int64_t> last_used_at;
    std::string last_error;
    bool health_changed = false;  // then status, reason, cooldown_until, refuses_stream_options
    std::string status, reason;
    std::optional<std::int64_t> cooldown_until;
    bool refuses_stream_options = false;
};

}  // namespace chatd::upstream
