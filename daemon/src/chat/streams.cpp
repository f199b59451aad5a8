// Following an answer over SSE: live while it is written, or replayed from the store.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/dispatch.hpp>
#include <boost/asio/post.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>

#include <charconv>

#include "chat/chat_service.hpp"
#include "util/app_error.hpp"

namespace chatd::chat {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

// "12,15,19" as other instances announce answer ids; anything else is skipped.
std::vector<store::id_t> parse_ids(std::string_view text) {
    std::vector<store::id_t> out;
    while (!text.empty()) {
        auto comma = text.find(',');
        auto part = text.substr(0, comma);
        store::id_t id = 0;
        auto [end, ec] = std::from_chars(part.data(), part.data() + part.size(), id);
        if (ec == std::errc{} && end == part.data() + part.size()) out.push_back(id);
        if (comma == text.npos) break;
        text.remove_prefix(comma + 1);
    }
    return out;
}

}  // namespace

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

// A stored answer's reasoning and text after `from`, one event each; the offset after them, or
// nothing when the client has gone.
awaitable<std::optional<std::size_t>> chat_service::write_saved_text(const store::message_row& m, std::size_t from,
                                                                     const write_fn& write) {
    const std::size_t thought = m.reasoning.size(), end = thought + m.content.size();
    if (from < thought) {
        if (!co_await write(reasoning_event(thought, std::string_view(m.reasoning).substr(from)))) co_return std::nullopt;
        from = thought;
    }
    if (from < end)
        if (!co_await write(delta_event(end, std::string_view(m.content).substr(from - thought)))) co_return std::nullopt;
    co_return std::max(from, end);
}

// A stored answer: the rest of its reasoning and text, then its final event.
awaitable<void> chat_service::replay(const store::message_row& m, std::size_t after, const write_fn& write) {
    auto end = co_await write_saved_text(m, resume_point(m.reasoning, m.content, after), write);
    if (!end) co_return;
    if (m.status == "done" || m.status == "stopped") {
        auto bal = co_await db_.run([uid = m.user_id](store::store& s) { return s.balance_of(uid); });
        done_summary d{m.id, m.status, m.refunded ? 0 : m.charge_trial + m.charge_paid, m.refunded,
                       m.free_reason, balance_json(bal), m.prompt_tokens.value_or(0),
                       m.completion_tokens.value_or(0), m.first_token_ms, m.total_ms, std::nullopt,
                       m.tokens_estimated, m.finish_reason};
        if (m.reasoning_tokens) d.reasoning_tokens = *m.reasoning_tokens;
        co_await write(done_event(*end + 1, d));
    } else {
        co_await write(error_event(*end + 1, m.error_reason.empty() ? m.status : m.error_reason, m.error_message,
                                   m.refunded));
    }
}

// An answer another instance is writing: its saved text, read again whenever that instance
// announces a save (at most every persist_interval), or every few seconds should news be lost.
// Until its writer ends it (or a live instance interrupts it for a dead writer).
awaitable<void> chat_service::follow_elsewhere(store::message_row m, std::size_t after, write_fn write) {
    auto ex = co_await asio::this_coro::executor;
    auto timer = std::make_shared<asio::steady_timer>(ex);
    auto waker = [timer, ex] { asio::post(ex, [timer] { timer->cancel(); }); };
    std::size_t pos = resume_point(m.reasoning, m.content, after);
    auto watch = watch_saves(m.id, waker);
    auto quiet_since = std::chrono::steady_clock::now();
    for (;;) {
        if (m.status != "streaming") co_return co_await replay(m, pos, write);
        auto next = co_await write_saved_text(m, pos, write);
        if (!next) co_return;
        if (*next != pos) quiet_since = std::chrono::steady_clock::now();
        pos = *next;
        timer->expires_after(std::chrono::seconds(2));
        co_await timer->async_wait(as_tuple);
        if (std::chrono::steady_clock::now() - quiet_since >= keepalive_interval) {
            if (!co_await write(": keepalive\n\n")) co_return;
            quiet_since = std::chrono::steady_clock::now();
        }
        auto fresh = co_await db_.read([id = m.id](store::store& s) { return s.message(id); });
        if (!fresh) co_return;  // deleted meanwhile
        m = std::move(*fresh);
    }
}

awaitable<void> chat_service::follow(stream_source src, std::size_t after, write_fn write) {
    if (src.stored && src.stored->status == "streaming" && db_.shared())
        co_return co_await follow_elsewhere(*src.stored, after, write);
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
        // The wake-up runs on this coroutine's loop (at once when it comes from there, as the
        // answer's own text does), so it cannot run before the wait below has started.
        gen->poll(pos, reasoning, text, final_event, [timer, ex] { asio::dispatch(ex, [timer] { timer->cancel(); }); });
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

std::shared_ptr<void> chat_service::watch_saves(store::id_t id, std::function<void()> wake) {
    auto w = std::make_shared<std::function<void()>>(std::move(wake));
    {
        std::lock_guard lock(watch_mu_);
        save_watchers_.emplace(id, w);
    }
    return std::shared_ptr<void>(nullptr, [this, id, w](void*) {
        std::lock_guard lock(watch_mu_);
        auto [first, last] = save_watchers_.equal_range(id);
        for (auto it = first; it != last; ++it)
            if (it->second == w) {
                save_watchers_.erase(it);
                break;
            }
    });
}

void chat_service::listen_for_news() {
    db_.on_news(store::news::answers_saved, [this](std::string_view ids) {
        std::lock_guard lock(watch_mu_);
        if (ids == store::database::any_news) {
            for (auto& [id, wake] : save_watchers_) (*wake)();
            return;
        }
        for (auto id : parse_ids(ids)) {
            auto [first, last] = save_watchers_.equal_range(id);
            for (auto it = first; it != last; ++it) (*it->second)();
        }
    });
    db_.on_news(store::news::stop_answer, [this](std::string_view detail) {
        auto ids = parse_ids(detail);
        if (ids.empty()) return;
        std::shared_ptr<generation> g;
        {
            std::lock_guard lock(mu_);
            if (auto it = live_.find(ids.front()); it != live_.end()) g = it->second;
        }
        if (g) g->request_stop(stop_cause::user);
    });
}

}  // namespace chatd::chat
