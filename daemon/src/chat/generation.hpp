#pragma once
// One answer being written: its reasoning and text so far, its final event once finished, and
// the followers (SSE streams) waiting for more. Lives on the server, independent of any
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
    // Reasoning comes before the answer: once the answer has begun, more of it is dropped.
    void append_reasoning(std::string_view text);
    // The complete SSE event that ends every stream of this answer.
    void finish(std::string final_event);
    bool finished() const;
    void request_stop(stop_cause why);
    stop_cause stopped_by() const;

    // What follows offset `pos` (see stream_offsets): reasoning and answer text (either empty if
    // none) and the final event (empty if still running). When all are empty, `wake` is kept and
    // called once on the next change.
    void poll(std::size_t pos, std::string& reasoning, std::string& text, std::string& final_event,
              std::function<void()> wake);

    std::string text() const;
    std::string reasoning() const;
    // `pos` moved back to a character boundary within what has been written.
    std::size_t resume_point(std::size_t pos) const;
    // Reasoning and text when they changed since the last call (for periodic persistence).
    std::optional<store::partial_answer> take_unsaved();

private:
    void notify(std::unique_lock<std::mutex>& lock);
    mutable std::mutex mu_;
    std::string reasoning_, text_;
    std::size_t saved_len_ = 0;  // of reasoning and text together
    std::string final_event_;
    stop_cause stop_ = stop_cause::none;
    std::vector<std::function<void()>> waiters_;
};

// SSE framing shared by live streams and replays. Event ids are byte offsets into the answer's
// reasoning followed by its text, so ids increase across both kinds of event and a resume point
// means the same thing live and after the answer is stored.
std::string sse_event(std::string_view name, std::size_t id, std::string_view data_json);
std::string delta_event(std::size_t end_offset, std::string_view text);
std::string reasoning_event(std::size_t end_offset, std::string_view text);
// An offset a client sent, moved back to a character boundary of reasoning + text.
std::size_t resume_point(std::string_view reasoning, std::string_view text, std::size_t pos);

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
    std::optional<std::int64_t> reasoning_tokens;  // only when the upstream reported them
    bool tokens_estimated = false;                 // counted from the text: the upstream reported none
    std::string finish_reason;                     // the upstream's (stop, length, …); empty: left out
};
std::string done_event(std::size_t id, const done_summary& d);
std::string error_event(std::size_t id, std::string_view reason, std::string_view message, bool refunded);

}  // namespace chatd::chat
