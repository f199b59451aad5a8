// Following an answer over SSE: live while it is written, or replayed from the store.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include "chat/chat_service.hpp"
#include "util/app_error.hpp"

namespace chatd::chat {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

awaitable<stream_source> chat_service::open(const store::user_row& viewer, store::id_t message_id) {
    stream_source src;
    {
        std::lock_guard lock(mu_);
        if (auto it = live_.find(message_id); it != live_.end()) src.live = it->second;
    }
    if (src.live) {
        if (src.live->user_id != viewer.id && !viewer.is_admin) throw app_error("not_found", "no such message");
        co_return src;
    }
    auto msg = co_await db_.run([message_id](store::store& s) { return s.message(message_id); });
    if (!msg || msg->role != "assistant" || (msg->user_id != viewer.id && !viewer.is_admin))
        throw app_error("not_found", "no such message");
    // It may have finished between the two looks: the stored row is final unless streaming.
    if (msg->status == "streaming") {
        std::lock_guard lock(mu_);
        if (auto it = live_.find(message_id); it != live_.end()) {
            src.live = it->second;
            co_return src;
        }
    }
    src.stored = std::make_shared<const store::message_row>(std::move(*msg));
    co_return src;
}

// A stored answer: the rest of its reasoning and text, one event each, then its final event.
awaitable<void> chat_service::replay(const store::message_row& m, std::size_t after, const write_fn& write) {
    const std::size_t thought = m.reasoning.size(), end = thought + m.content.size();
    std::size_t from = resume_point(m.reasoning, m.content, after);
    if (from < thought) {
        if (!co_await write(reasoning_event(thought, std::string_view(m.reasoning).substr(from)))) co_return;
        from = thought;
    }
    if (from < end)
        if (!co_await write(delta_event(end, std::string_view(m.content).substr(from - thought)))) co_return;
    if (m.status == "done" || m.status == "stopped") {
        auto bal = co_await db_.run([uid = m.user_id](store::store& s) { return s.balance_of(uid); });
        done_summary d{m.id, m.status, m.refunded ? 0 : m.charge_trial + m.charge_paid, m.refunded,
                       m.free_reason, balance_json(bal), m.prompt_tokens.value_or(0),
                       m.completion_tokens.value_or(0), m.first_token_ms, m.total_ms, std::nullopt,
                       m.tokens_estimated};
        if (m.reasoning_tokens) d.reasoning_tokens = *m.reasoning_tokens;
        co_await write(done_event(end + 1, d));
    } else {
        co_await write(error_event(end + 1, m.error_reason.empty() ? m.status : m.error_reason, m.error_message,
                                   m.refunded));
    }
}

awaitable<void> chat_service::follow(stream_source src, std::size_t after, write_fn write) {
    if (src.stored) co_return co_await replay(*src.stored, after, write);

    auto gen = src.live;
    auto ex = co_await asio::this_coro::executor;
    auto timer = std::make_shared<asio::steady_timer>(ex);
    // Text that comes faster than one write per flush interval is gathered into one write (the
    // first at once): each write is a system call and a wake-up for the browser.
    const auto flush_every = std::chrono::milliseconds(config_()->stream_flush_ms);
    auto next_write = std::chrono::steady_clock::time_point::min();
    // Offsets the client sends are ones we sent; clamp anything else to a character boundary.
    std::size_t pos = gen->resume_point(after);
    for (;;) {
        std::string reasoning, text, final_event;
        // The wake-up is posted to this coroutine's strand, so it cannot run before the wait
        // below has started.
        gen->poll(pos, reasoning, text, final_event, [timer, ex] { asio::post(ex, [timer] { timer->cancel(); }); });
        if (!reasoning.empty() || !text.empty()) {
            if (std::chrono::steady_clock::now() < next_write) {
                timer->expires_at(next_write);
                co_await timer->async_wait(as_tuple);
                continue;  // polls again, gathering what came meanwhile
            }
            std::string events;
            if (!reasoning.empty()) events = reasoning_event(pos += reasoning.size(), reasoning);
            if (!text.empty()) events += delta_event(pos += text.size(), text);
            if (!co_await write(std::move(events))) co_return;
            next_write = std::chrono::steady_clock::now() + flush_every;
            continue;
        }
        if (!final_event.empty()) {
            co_await write(std::move(final_event));
            co_return;
        }
        timer->expires_after(keepalive_interval);
        auto [ec] = co_await timer->async_wait(as_tuple);
        if (!ec && !co_await write(": keepalive\n\n")) co_return;
    }
}

}  // namespace chatd::chat
