// What the fake saw, for the test hooks: request counts per key, live and finished answers, and
// the chat bodies each key sent (so a test can see what the client really put on the wire).
#pragma once

#include <atomic>
#include <cstdint>
#include <deque>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <unordered_map>

namespace chatd::fake {

// Counters are read by tests while streams run, so they are atomics; the per-key maps are rare
// enough (once per request) that a mutex costs nothing measurable.
class stats {
public:
    // Enough for any test's retries, small enough that a benchmark's key stays bounded.
    static constexpr std::size_t bodies_kept = 100;

    std::int64_t count_request(const std::string& key);
    void remember_body(const std::string& key, std::string body);
    std::optional<std::string> last_body(const std::string& key);
    // {"bodies":[…]}: the key's last `bodies_kept` chat bodies, oldest first, each as the JSON it
    // was (a string when it was not JSON).
    std::string bodies_json(const std::string& key);
    std::string to_json();
    // in_flight describes live connections, so it survives a reset.
    void reset();

    std::atomic<std::int64_t> in_flight{0};
    std::atomic<std::int64_t> completed{0};
    std::atomic<std::int64_t> client_closed{0};

private:
    // Shared so that a hook copies pointers under the lock, not bodies of up to 4 MiB.
    using body_ptr = std::shared_ptr<const std::string>;

    std::mutex mutex_;
    std::unordered_map<std::string, std::int64_t> requests_;
    std::unordered_map<std::string, std::deque<body_ptr>> bodies_;
};

// Keeps in_flight/completed/client_closed honest however the answer ends.
class flight {
public:
    explicit flight(stats& st) : stats_(st) { ++stats_.in_flight; }
    ~flight() {
        --stats_.in_flight;
        ++(closed_by_client_ ? stats_.client_closed : stats_.completed);
    }
    flight(const flight&) = delete;
    flight& operator=(const flight&) = delete;
    void client_closed() { closed_by_client_ = true; }

private:
    stats& stats_;
    bool closed_by_client_ = false;
};

}  // namespace chatd::fake
