#include "chat/generation.hpp"

#include <boost/json.hpp>

#include "util/text.hpp"

namespace chatd::chat {

void generation::notify(std::unique_lock<std::mutex>& lock) {
    auto waiters = std::move(waiters_);
    waiters_.clear();
    lock.unlock();
    for (auto& w : waiters) w();
}

void generation::append(std::string_view text) {
    if (text.empty()) return;
    std::unique_lock lock(mu_);
    if (!final_event_.empty()) return;
    text_.append(text);
    notify(lock);
}

void generation::append_reasoning(std::string_view text) {
    if (text.empty()) return;
    std::unique_lock lock(mu_);
    if (!final_event_.empty() || !text_.empty()) return;
    reasoning_.append(text);
    notify(lock);
}

void generation::finish(std::string final_event) {
    std::unique_lock lock(mu_);
    final_event_ = std::move(final_event);
    notify(lock);
}

bool generation::finished() const {
    std::lock_guard lock(mu_);
    return !final_event_.empty();
}

void generation::request_stop(stop_cause why) {
    {
        std::lock_guard lock(mu_);
        if (stop_ == stop_cause::none) stop_ = why;
    }
    cancel->cancel();
}

stop_cause generation::stopped_by() const {
    std::lock_guard lock(mu_);
    return stop_;
}

void generation::poll(std::size_t pos, std::string& reasoning, std::string& text, std::string& final_event,
                      std::function<void()> wake) {
    std::lock_guard lock(mu_);
    if (pos < reasoning_.size()) {
        reasoning.assign(reasoning_, pos);
        text = text_;
    } else if (pos - reasoning_.size() < text_.size()) {
        text.assign(text_, pos - reasoning_.size());
    }
    final_event = final_event_;
    if (reasoning.empty() && text.empty() && final_event.empty()) waiters_.push_back(std::move(wake));
}

std::string generation::text() const {
    std::lock_guard lock(mu_);
    return text_;
}

std::string generation::reasoning() const {
    std::lock_guard lock(mu_);
    return reasoning_;
}

std::size_t generation::resume_point(std::size_t pos) const {
    std::lock_guard lock(mu_);
    return chat::resume_point(reasoning_, text_, pos);
}

std::optional<store::partial_answer> generation::take_unsaved() {
    std::lock_guard lock(mu_);
    if (reasoning_.size() + text_.size() == saved_len_) return std::nullopt;
    saved_len_ = reasoning_.size() + text_.size();
    return store::partial_answer{message_id, text_, reasoning_};
}

std::size_t resume_point(std::string_view reasoning, std::string_view text, std::size_t pos) {
    if (pos <= reasoning.size()) return utf8_floor(reasoning, pos);
    return reasoning.size() + utf8_floor(text, std::min(pos - reasoning.size(), text.size()));
}

std::string sse_event(std::string_view name, std::size_t id, std::string_view data_json) {
    std::string out;
    out.reserve(name.size() + data_json.size() + 32);
    out.append("event: ").append(name).append("\nid: ").append(std::to_string(id));
    out.append("\ndata: ").append(data_json).append("\n\n");
    return out;
}

namespace {

// {"text":"…"} without building a JSON document: one per delta of every stream.
std::string text_event(std::string_view name, std::size_t end_offset, std::string_view text) {
    return sse_event(name, end_offset, "{\"text\":" + boost::json::serialize(text) + "}");
}

}  // namespace

std::string delta_event(std::size_t end_offset, std::string_view text) {
    return text_event("delta", end_offset, text);
}

std::string reasoning_event(std::size_t end_offset, std::string_view text) {
    return text_event("reasoning", end_offset, text);
}

std::string done_event(std::size_t id, const done_summary& d) {
    auto or_null = [](const std::optional<std::int64_t>& v) { return v ? boost::json::value(*v) : boost::json::value(nullptr); };
    boost::json::object o{
        {"message_id", d.message_id},
        {"status", d.status},
        {"charged", d.charged},
        {"refunded", d.refunded},
        {"free_reason", d.free_reason.empty() ? boost::json::value(nullptr) : boost::json::value(d.free_reason)},
        {"balance", d.balance},
        {"usage", boost::json::object{{"prompt_tokens", d.prompt_tokens}, {"completion_tokens", d.completion_tokens}}},
        {"latency_ms", boost::json::object{{"first_token", or_null(d.first_token_ms)}, {"total", or_null(d.total_ms)}}}};
    if (d.reasoning_tokens) o["usage"].as_object()["reasoning_tokens"] = *d.reasoning_tokens;
    if (d.tokens_estimated) o["usage"].as_object()["estimated"] = true;
    if (!d.finish_reason.empty()) o["finish_reason"] = d.finish_reason;
    return sse_event("done", id, boost::json::serialize(o));
}

std::string error_event(std::size_t id, std::string_view reason, std::string_view message, bool refunded) {
    boost::json::object o{{"reason", reason}, {"message", message}, {"refunded", refunded}};
    return sse_event("error", id, boost::json::serialize(o));
}

}  // namespace chatd::chat
