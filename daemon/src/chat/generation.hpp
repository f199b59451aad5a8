#pragma once
// One answer being written: its text so far, its final event once finished, and the
// followers (SSE streams) waiting for more. Lives on the server, independent of any
// connection; thread-safe.
#include <boost/json/object.hpp>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <optional>
#include <string>
#include <vector>

#include "store/types.hpp"
#include "util/cancel.hpp"

namespace chatd::chat {

// storage_full: the disk had no room for the answer's text, so it cannot end well.
enum class stop_cause { none, user, shutdown, storage_full };

class generation {
public:
    generation(store::id_t message_id, store::id_t user_id, store::id_t conversation_id)
        : message_id(message_id), user_id(user_id), conversation_id(conversation_id) {}

    const store::id_t message_id;
    const store::id_t user_id;
    const store::id_t conversation_id;
    const cancel_ptr cancel = std::make_shared<cancel_handle>();

    void append(std::string_view text);
    // The complete SSE event that ends every stream of this answer.
    void finish(std::string final_event);
    bool finished() const;
    void request_stop(stop_cause why);
    stop_cause stopped_by() const;

    // Text after byte offset `pos` (empty if none) and the final event (empty if still
    // running). When both are empty, `wake` is kept and called once on the next change.
    void poll(std::size_t pos, std::string& text, std::string& final_event, std::function<void()> wake);

    std::string text() const;
    // The text when it changed since the last call (for periodic persistence).
    std::optional<std::string> take_unsaved();

private:
    void notify(std::unique_lock<std::mutex>& lock);
    mutable std::mutex mu_;
    std::string text_;
    std::size_t saved_len_ = 0;
    std::string final_event_;
    stop_cause stop_ = stop_cause::none;
    std::vector<std::function<void()>> waiters_;
};

// SSE framing shared by live streams and replays. Event ids are byte offsets into the
// answer's text, so a resume point means the same thing live and after the answer is stored.
std::string sse_event(std::string_view name, std::size_t id, std::string_view data_json);
std::string delta_event(std::size_t end_offset, std::string_view text);

// What the final `done` event reports (CONTRACT §6), the same live and replayed.
struct done_summary {
    std::int64_t message_id = 0;
    std::string status;  // done | stopped
    std::int64_t charged = 0;
    bool refunded = false;
    std::string free_reason;  // empty: null
    boost::json::object balance;
    std::int64_t prompt_tokens = 0, completion_tokens = 0;
    std::optional<std::int64_t> first_token_ms, total_ms;
};
std::string done_event(std::size_t id, const done_summary& d);
std::string error_event(std::size_t id, std::string_view reason, std::string_view message, bool refunded);

}  // namespace chatd::chat
