// An answer's life after it was accepted: asking the upstream over the key pool with failover,
// feeding its reasoning and text to the generation, then storing the outcome (charge or refund,
// usage and cost) and ending every stream with the final event.
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <set>
#include <spdlog/spdlog.h>

#include "billing/refunds.hpp"
#include "billing/usage_cost.hpp"
#include "chat/chat_service.hpp"
#include "chat/token_estimate.hpp"
#include "upstream/error_reply.hpp"
#include "util/app_error.hpp"
#include "util/unix_time.hpp"

namespace chatd::chat {

namespace asio = boost::asio;
using asio::awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

namespace {

constexpr const char* unsaved_message =
    "服务器磁盘已满，回答无法保存，已退还次数 "
    "(the server's disk is full: the answer could not be saved; refunded)";
constexpr const char* malformed_message =
    "上游返回了无法读取的数据，已退还次数 (the upstream sent a stream that cannot be read; refunded)";

// The user may have seen the whole text, but an answer that cannot be stored (the disk is full,
// the database unreachable) ends failed and refunded.
void mark_unsaved(store::finished_answer& f, const std::exception& why) {
    f.status = "failed";
    f.refund = true;
    f.free_reason.clear();
    if (has_reason(why, "storage_full")) {
        f.error_reason = "storage_full";
        f.error_message = unsaved_message;
    } else {
        f.error_reason = has_reason(why, "database_unavailable") ? "database_unavailable" : "internal_error";
        f.error_message = "回答未能保存，已退还次数 (the answer could not be saved; refunded)";
    }
}

std::string error_event_of(const store::finished_answer& f) {
    return error_event(f.reasoning.size() + f.content.size() + 1, f.error_reason, f.error_message, f.refund);
}

// What one question asks of the upstream besides its messages (per-model options, CONTRACT §10).
// An API client's max_tokens may lower the model's cap, never raise it.
upstream::chat_options options_for(const store::model_row& m, const upstream::lease& key, int client_max_tokens) {
    upstream::chat_options o;
    o.include_usage = m.stream_usage == "on" || (m.stream_usage == "auto" && !key.refuses_stream_options);
    o.max_tokens = m.max_tokens;
    if (client_max_tokens > 0 && (o.max_tokens == 0 || client_max_tokens < o.max_tokens)) o.max_tokens = client_max_tokens;
    return o;
}
}  // namespace

awaitable<void> chat_service::run(job j) {
    auto& g = *j.gen;
    auto cfg = config_();
    std::set<std::int64_t> tried;
    std::optional<std::int64_t> first_token_ms;
    std::optional<std::int64_t> key_used;
    std::optional<upstream::usage> usage;
    std::string status = "failed", error_reason, error_message, finish_reason;
    bool got_text = false;
    // The last key's stream could not be read: too long a line or answer, bad JSON, not UTF-8.
    bool last_malformed = false;
    // On the heap, and only with sensitive words set: this frame is held by every open answer.
    struct maskers {
        stream_masker text, reasoning;
    };
    std::unique_ptr<maskers> masking;
    if (auto filter = words()) masking.reset(new maskers{stream_masker(filter), stream_masker(filter)});
    // Counted now: once text arrives the context is let go (no other key is asked after that).
    j.prompt_estimate = estimate_prompt_tokens(j.messages);
    upstream::chat_request req;
    std::optional<std::chrono::steady_clock::time_point> thinking_since;
    std::optional<std::int64_t> reasoning_ms;
    auto since_accepted = [&j] {
        return std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() - j.accepted)
            .count();
    };
    // The thinking ends with the answer's first text (or with the answer): what the reasoning
    // masker still holds goes out before it.
    auto end_thinking = [&] {
        if (!thinking_since || reasoning_ms) return;
        if (masking) g.append_reasoning(masking->reasoning.finish());
        reasoning_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                             *thinking_since)
                           .count();
    };
    auto on_text = [&](upstream::text_kind kind, std::string_view text) {
        // The first token, reasoning or answer, is what the visitor waits for (latency, free-if-slow).
        if (!first_token_ms) {
            first_token_ms = since_accepted();
            // The request has been sent and no retry follows text: the context need not stay.
            std::vector<upstream::chat_message>().swap(req.messages);
        }
        got_text = true;
        if (kind == upstream::text_kind::reasoning) {
            if (!thinking_since) thinking_since = std::chrono::steady_clock::now();
            if (masking) g.append_reasoning(masking->reasoning.push(text));
            else g.append_reasoning(text);
            return;
        }
        end_thinking();
        if (masking) g.append(masking->text.push(text));
        else g.append(text);
    };

    try {
        for (int attempt = 0; attempt < cfg->upstream.max_attempts; ++attempt) {
            if (g.cancel->cancelled()) break;
            auto lease = pool_.pick(j.model.upstream_model, tried, unix_now());
            if (!lease) break;
            tried.insert(lease->id);
            key_used = lease->id;
            {
                std::lock_guard lock(mu_);
                counters_.upstream_attempts++;
                if (attempt > 0) counters_.retries++;
            }
            // The context moves into the request and back: one copy per answer, kept for a retry.
            req = {lease->base_url.empty() ? cfg->upstream.base_url : lease->base_url, lease->secret,
                   j.model.upstream_model, std::move(j.messages), options_for(j.model, *lease, j.max_tokens)};
            auto o = co_await client_.stream_chat(req, on_text, g.cancel);
            if (j.model.stream_usage == "auto" && req.options.include_usage && upstream::refuses_stream_options(o)) {
                // A gateway that does not know stream_options: ask again without it, and remember.
                spdlog::info("answer {}: key {} refuses stream_options; asking without it from now on", g.message_id,
                             lease->id);
                pool_.note_refuses_stream_options(lease->id);
                req.options.include_usage = false;
                o = co_await client_.stream_chat(req, on_text, g.cancel);
            }
            j.messages = std::move(req.messages);
            auto v = pool_.report(lease->id, o, unix_now());
            if (o.tokens) usage = o.tokens;
            if (v == upstream::verdict::success) {
                status = "done";
                finish_reason = o.finish_reason;
                break;
            }
            if (v == upstream::verdict::cancelled) {
                status = g.stopped_by() == stop_cause::shutdown ? "interrupted" : "stopped";
                break;
            }
            last_malformed = o.what == upstream::outcome::kind::malformed;
            if (o.got_delta) {
                // Past the first token the user has seen text: no silent switch to another key.
                if (last_malformed) {
                    error_reason = "upstream_malformed";
                    error_message = malformed_message;
                } else {
                    error_reason = "upstream_interrupted";
                    error_message = "上游连接中断，回答不完整 (the upstream stopped mid-answer)";
                }
                break;
            }
            if (v == upstream::verdict::request_fault) {
                error_reason = "upstream_rejected";
                error_message = o.error_message.empty() ? "上游拒绝了这个请求 (the upstream refused the request)"
                                                        : o.error_message;
                break;
            }
            spdlog::info("answer {}: key {} failed ({}), trying the next key", g.message_id, lease->id,
                         o.error_message.empty() ? std::to_string(o.http_status) : o.error_message);
        }
    } catch (const std::exception& e) {
        spdlog::error("answer {}: {}", g.message_id, e.what());
        error_reason = "internal_error";
        error_message = "内部错误 (internal error)";
    }
    end_thinking();
    if (masking) g.append(masking->text.finish());
    if (g.cancel->cancelled() && status == "failed" && error_reason.empty())
        status = g.stopped_by() == stop_cause::shutdown ? "interrupted" : "stopped";
    if (g.stopped_by() == stop_cause::storage_full) {
        status = "failed";
        error_reason = "storage_full";
        error_message = unsaved_message;
    }
    if (status == "failed" && error_reason.empty() && last_malformed) {
        error_reason = "upstream_malformed";
        error_message = malformed_message;
    }
    if (status == "failed" && error_reason.empty()) {
        error_reason = tried.empty() ? "no_upstream" : "upstream_unavailable";
        error_message = tried.empty() ? "暂无可用的上游接口 (no upstream key is available)"
                                      : "上游接口暂时不可用，已退还次数 (the upstream is unavailable; refunded)";
    }

    co_await store_answer(j, {std::move(status), std::move(error_reason), std::move(error_message), key_used,
                              first_token_ms, usage, got_text, reasoning_ms, std::move(finish_reason)});
}

// How the answer ended, then stored and announced in a coroutine of its own: what storing
// needs is not held by every answer while it streams.
awaitable<void> chat_service::store_answer(job& j, answer_end e) {
    auto& g = *j.gen;
    auto& [status, error_reason, error_message, key_used, first_token_ms, usage, got_text, reasoning_ms,
           finish_reason] = e;
    auto total_ms = std::chrono::duration_cast<std::chrono::milliseconds>(std::chrono::steady_clock::now() -
                                                                          j.accepted)
                        .count();
    store::finished_answer f;
    f.message_id = g.message_id;
    f.status = status;
    f.content = g.text();
    f.reasoning = g.reasoning();
    f.reasoning_ms = reasoning_ms;
    f.finish_reason = finish_reason;
    f.key_id = key_used;
    f.first_token_ms = first_token_ms;
    f.total_ms = total_ms;
    if (usage) {
        f.prompt_tokens = usage->prompt_tokens;
        f.completion_tokens = usage->completion_tokens;
        f.reasoning_tokens = usage->reasoning_tokens;
    } else if (got_text) {
        f.prompt_tokens = j.prompt_estimate;
        f.completion_tokens = estimate_tokens(f.reasoning) + estimate_tokens(f.content);
        f.tokens_estimated = true;
    }
    f.upstream_cost = billing::upstream_cost(f.prompt_tokens.value_or(0), f.completion_tokens.value_or(0),
                                             j.model.price_in, j.model.price_out);
    auto refund = billing::decide_refund(status, got_text, first_token_ms,
                                         settings_.get_int("billing.free_if_slower_than"));
    f.refund = refund.refund;
    f.free_reason = refund.free_reason;
    if (status == "failed" || status == "interrupted") {
        f.error_reason = status == "interrupted" ? "interrupted" : error_reason;
        f.error_message = status == "interrupted" ? "服务重启，回答中断，已退还次数 (interrupted by a restart; refunded)"
                                                  : error_message;
    }

    std::string final_event;
    bool unsaved = false;
    try {
        auto bal = co_await db_.run_apart([f, now = unix_now()](store::store& s) { return s.finish_answer(f, now); });
        // Streams following it on other instances end now rather than at their next look.
        if (db_.shared()) db_.announce(store::news::answers_saved, std::to_string(g.message_id));
        std::size_t end = f.reasoning.size() + f.content.size();
        if (status == "failed" || status == "interrupted") {
            final_event = error_event_of(f);
        } else {
            final_event = done_event(end + 1, {g.message_id, status, f.refund ? 0 : j.charged, f.refund,
                                               f.free_reason, balance_json(bal), f.prompt_tokens.value_or(0),
                                               f.completion_tokens.value_or(0), first_token_ms, total_ms,
                                               f.reasoning_tokens, f.tokens_estimated, f.finish_reason});
        }
    } catch (const std::exception& e) {
        // Never left `streaming`: it ends failed and is stored so, and refunded, once storing works.
        spdlog::warn("answer {}: cannot store the result ({}); it ends failed, refunded once it can be stored",
                     g.message_id, e.what());
        mark_unsaved(f, e);
        status = f.status;
        unsaved = true;
        final_event = error_event_of(f);
    }
    g.finish(std::move(final_event));
    {
        std::lock_guard lock(mu_);
        if (!unsaved) live_.erase(g.message_id);
        if (status == "done") counters_.done++;
        else if (status == "stopped") counters_.stopped++;
        else if (status == "interrupted") counters_.interrupted++;
        else counters_.failed++;
    }
    release_slot(g.user_id);
    if (!f.reasoning.empty() && !j.model.reasoning) co_await learn_reasoning(j.model.id);
    if (unsaved) co_await store_when_possible(std::move(f));
}

// Streams still find the answer live meanwhile, with its final event. If chatd stops first,
// the start-up sweep (store::interrupt_streaming) ends the answer and refunds it instead.
awaitable<void> chat_service::store_when_possible(store::finished_answer f) {
    asio::steady_timer timer(co_await asio::this_coro::executor);
    std::string last_error;
    for (;;) {
        timer.expires_after(unsaved_retry_interval);
        auto [ec] = co_await timer.async_wait(as_tuple);
        if (ec) break;
        try {
            co_await db_.run([f, now = unix_now()](store::store& s) { return s.finish_answer(f, now); });
            spdlog::info("answer {}: stored as failed and refunded", f.message_id);
            break;
        } catch (const std::exception& e) {
            if (has_reason(e, "not_found")) break;  // its conversation is gone
            // Said once per kind of failure, not every two seconds.
            if (e.what() != last_error) spdlog::warn("answer {}: still cannot store it: {}", f.message_id, e.what());
            last_error = e.what();
        }
    }
    std::lock_guard lock(mu_);
    live_.erase(f.message_id);
}

}  // namespace chatd::chat
