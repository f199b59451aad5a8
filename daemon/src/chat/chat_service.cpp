#include "chat/chat_service.hpp"

#include <algorithm>
#include <boost/asio/co_spawn.hpp>
#include <boost/asio/detached.hpp>
#include <boost/asio/as_tuple.hpp>
#include <boost/asio/this_coro.hpp>
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "billing/balance.hpp"
#include "util/app_error.hpp"
#include "util/event_loop.hpp"
#include "util/text.hpp"
#include "util/unix_time.hpp"

namespace chatd::chat {

namespace asio = boost::asio;
namespace json = boost::json;
using asio::awaitable;
using asio::use_awaitable;
constexpr auto as_tuple = asio::as_tuple(asio::use_awaitable);

json::object balance_to_json(const store::balance& b, std::int64_t now) {
    json::object o{{"trial", b.trial}, {"paid", billing::usable_paid(b, now)}};
    if (b.paid_expires_at && billing::usable_paid(b, now) > 0) o["paid_expires_at"] = *b.paid_expires_at;
    else o["paid_expires_at"] = nullptr;
    return o;
}

chat_service::chat_service(asio::io_context& ioc, store::database& db, upstream::client& client,
                           upstream::key_pool& pool, settings& s,
                           std::function<std::shared_ptr<const config>()> cfg, attachments& uploads)
    : ioc_(ioc), db_(db), client_(client), pool_(pool), settings_(s), config_(std::move(cfg)), uploads_(uploads) {
    listen_for_news();
}

void chat_service::set_models(std::vector<store::model_row> models) {
    std::lock_guard lock(mu_);
    models_ = std::move(models);
}

std::vector<store::model_row> chat_service::models() const {
    std::lock_guard lock(mu_);
    return models_;
}

std::optional<store::model_row> chat_service::find_model(const std::string& id) const {
    std::lock_guard lock(mu_);
    for (auto& m : models_)
        if (m.id == id) return m;
    return std::nullopt;
}

awaitable<void> chat_service::learn_reasoning(std::string model_id) {
    try {
        co_await db_.run([model_id](store::store& s) { return s.mark_model_reasoning(model_id); });
    } catch (const std::exception& e) {
        spdlog::warn("model {}: cannot note that it reasons: {}", model_id, e.what());
        co_return;
    }
    db_.announce(store::news::models);
    std::lock_guard lock(mu_);
    for (auto& m : models_)
        if (m.id == model_id) m.reasoning = true;
}

void chat_service::set_sensitive_words(std::string_view lines) {
    auto filter = std::make_shared<const word_filter>(lines);
    std::lock_guard lock(mu_);
    words_ = filter->empty() ? nullptr : std::move(filter);
}

std::shared_ptr<const word_filter> chat_service::words() const {
    std::lock_guard lock(mu_);
    return words_;
}

void chat_service::check_words(std::string_view text) const {
    auto filter = words();
    if (filter && !filter->first_match(text).empty())
        throw app_error("content_blocked", "内容包含敏感词，请修改后再试 (the text contains a blocked word)");
}

std::string chat_service::default_model() const {
    auto preferred = settings_.get("chat.default_model");
    std::lock_guard lock(mu_);
    for (auto& m : models_)
        if (m.enabled && m.id == preferred) return m.id;
    for (auto& m : models_)
        if (m.enabled) return m.id;
    return {};
}


json::object chat_service::balance_json(const store::balance& b) const {
    return balance_to_json(b, unix_now());
}

namespace {

app_error too_many_questions() {
    return app_error("too_many_requests", "提问太频繁，请稍后再试 (too many questions, wait a minute)");
}

app_error too_many_answers() {
    return app_error("busy", "回答生成中，请等待当前回答完成 (too many answers in progress)");
}

}  // namespace

// One instance (SQLite) counts the asker's questions and answers in memory, off the database
// thread; several instances on one database count them in the question's transaction instead
// (asker_limits), and nothing is reserved here.
void chat_service::reserve_slot(const store::user_row& user) {
    const bool shared = db_.shared();
    if (!shared && !questions_.allow("q:" + std::to_string(user.id),
                                     static_cast<int>(settings_.get_int("limits.questions_per_minute")),
                                     std::chrono::seconds(60)))
        throw too_many_questions();
    auto limit = settings_.get_int("limits.answers_in_flight");
    std::lock_guard lock(mu_);
    if (draining_) throw app_error("busy", "服务正在重启，请稍后再试 (the service is restarting)");
    if (shared) return;
    int& n = per_user_[user.id];
    if (n >= limit) {
        if (n == 0) per_user_.erase(user.id);
        throw too_many_answers();
    }
    ++n;
}

// The same limits as reserve_slot, decided on the counts the store takes under the asker's
// row lock, so that two instances cannot both let in the asker's last question.
store::load_check chat_service::asker_limits() const {
    if (!db_.shared()) return {};
    return [per_minute = settings_.get_int("limits.questions_per_minute"),
            in_flight = settings_.get_int("limits.answers_in_flight")](const store::asker_load& load) {
        if (load.questions_last_minute >= per_minute) throw too_many_questions();
        if (load.answers_streaming >= in_flight) throw too_many_answers();
    };
}

void chat_service::release_slot(store::id_t user_id) {
    std::lock_guard lock(mu_);
    auto it = per_user_.find(user_id);
    if (it != per_user_.end() && --it->second <= 0) per_user_.erase(it);
}

awaitable<json::object> chat_service::send(const store::user_row& user, send_request req) {
    if (trim(req.content).empty()) throw app_error("invalid_params", "问题不能为空 (the question is empty)");
    if (req.content.size() > 64 * 1024)
        throw app_error("invalid_params", "问题太长 (the question is longer than 64 KiB)");
    if (req.system_prompt && !settings_.get_bool("chat.allow_custom_system_prompt"))
        throw app_error("forbidden", "不允许自定义系统提示词 (custom system prompts are off)");
    check_words(req.content);
    if (req.system_prompt) check_words(*req.system_prompt);
    std::int64_t api_images = 0;
    if (req.api) {
        req.conversation_id.reset();
        req.parent_id.reset();
        req.role_id.reset();
        req.system_prompt.reset();
        req.attachments.clear();
        for (const auto& m : req.api->messages) {
            if (m.role != "assistant") check_words(m.content);
            api_images += static_cast<std::int64_t>(m.image_urls.size());
        }
        if (api_images > 4) throw app_error("invalid_params", "at most 4 images in one request");
    }
    if (req.role_id && !req.system_prompt) {
        auto role = co_await db_.run([id = *req.role_id](store::store& s) { return s.role(id); });
        if (!role || !role->enabled) throw app_error("invalid_params", "unknown role");
        req.system_prompt = role->prompt;
    }
    const auto images = req.api ? api_images : co_await checked_images(user, req.attachments);
    std::string model_id = req.model.value_or("");
    if (model_id.empty() && !req.conversation_id) {
        model_id = default_model();
        if (model_id.empty()) throw app_error("no_upstream", "没有可用的模型 (no model is configured)");
    }
    std::optional<store::model_row> model;
    if (!model_id.empty()) {
        model = find_model(model_id);
        if (!model || !model->enabled) throw app_error("invalid_params", "unknown model '" + model_id + "'");
    }
    reserve_slot(user);
    try {
        store::question q;
        q.user_id = user.id;
        q.conversation_id = req.conversation_id;
        q.parent_id = req.parent_id;
        q.content = std::move(req.content);
        q.role_id = req.role_id;
        q.system_prompt = req.system_prompt;
        q.attachments = std::move(req.attachments);
        if (req.api) q.api_key_id = req.api->key_id;
        if (model) q.model = model->id;
        // A conversation keeps its own model: look it up when none was named.
        if (!model) {
            auto conv = co_await db_.run([id = *req.conversation_id](store::store& s) { return s.conversation(id); });
            if (!conv || conv->user_id != user.id || conv->deleted_at)
                throw app_error("not_found", "no such conversation");
            model = find_model(conv->model);
            if (!model) model = find_model(default_model());
            if (!model) throw app_error("no_upstream", "没有可用的模型 (no model is configured)");
            q.model = model->id;
        }
        refuse_images_unless_vision(images, *model);
        if (!pool_.has_candidate(model->upstream_model, unix_now()))
            throw app_error("no_upstream", "暂无可用的上游接口，请稍后再试 (no upstream key is available)");
        context_selector context({model->max_messages, model->max_context_chars, model->vision});
        auto now = unix_now();
        auto price = billing::question_price(model->cost, model->image_cost, images, user.is_admin);
        auto started = co_await db_.run_apart(
            [q, plan = billing::question_charge(price, now), read = context.reader(), now,
             admit = asker_limits()](store::store& s) { return s.start_question(q, plan, read, now, admit); });
        co_return co_await launch(user, std::move(started), std::move(context), *model, price,
                                  req.api ? &*req.api : nullptr);
    } catch (...) {
        release_slot(user.id);
        throw;
    }
}

awaitable<json::object> chat_service::regenerate(const store::user_row& user, store::id_t message_id,
                                                 std::optional<std::vector<std::string>> attachments) {
    auto msg = co_await db_.run([message_id](store::store& s) { return s.message(message_id); });
    if (!msg || msg->user_id != user.id || msg->role != "assistant")
        throw app_error("not_found", "no such answer");
    auto conv = co_await db_.run([id = msg->conversation_id](store::store& s) { return s.conversation(id); });
    auto model = conv ? find_model(conv->model) : std::nullopt;
    if (!model) model = find_model(default_model());
    if (!model) throw app_error("no_upstream", "没有可用的模型 (no model is configured)");
    std::int64_t images = 0;
    if (attachments) {
        images = co_await checked_images(user, *attachments);
        refuse_images_unless_vision(images, *model);
    } else if (model->vision && msg->parent_id) {
        // The question's own images are sent again, and cost again.
        auto attached = co_await db_.run([id = *msg->parent_id](store::store& s) { return s.attachments_of(id); });
        for (const auto& a : attached) images += a.kind == "image";
    }
    reserve_slot(user);
    try {
        if (!pool_.has_candidate(model->upstream_model, unix_now()))
            throw app_error("no_upstream", "暂无可用的上游接口，请稍后再试 (no upstream key is available)");
        context_selector context({model->max_messages, model->max_context_chars, model->vision});
        auto now = unix_now();
        auto price = billing::question_price(model->cost, model->image_cost, images, user.is_admin);
        auto started = co_await db_.run_apart(
            [&, plan = billing::question_charge(price, now), read = context.reader(),
             admit = asker_limits()](store::store& s) {
                return s.start_regenerate(user.id, message_id, attachments, plan, read, now, admit);
            });
        co_return co_await launch(user, std::move(started), std::move(context), *model, price);
    } catch (...) {
        release_slot(user.id);
        throw;
    }
}

awaitable<std::int64_t> chat_service::checked_images(const store::user_row& user,
                                                    const std::vector<std::string>& upload_ids) {
    std::int64_t images = 0;
    for (const auto& a : co_await uploads_.for_question(user.id, upload_ids)) {
        if (a.kind == "image") ++images;
        else check_words(a.text);
    }
    co_return images;
}

void chat_service::refuse_images_unless_vision(std::int64_t images, const store::model_row& model) {
    if (images && !model.vision)
        throw app_error("invalid_params", "这个模型不能看图片，请换一个支持图片的模型 (this model cannot take images)");
}

awaitable<json::object> chat_service::launch(const store::user_row& user, store::started_answer started,
                                             context_selector context, const store::model_row& model,
                                             std::int64_t price, const api_question* api) {
    job j;
    j.gen = std::make_shared<generation>(started.message_id, user.id, started.conversation_id);
    j.model = model;
    if (api) {
        // The client's own history is the context, within the model's budget.
        j.max_tokens = api->max_tokens;
        for (auto& m : client_context(api->messages, {model.max_messages, model.max_context_chars, model.vision}))
            j.messages.push_back({std::move(m.role), std::move(m.content), std::move(m.image_urls)});
    } else {
        for (auto& m : std::move(context).result(started.system_prompt)) {
            upstream::chat_message out{std::move(m.role), std::move(m.content), {}};
            for (const auto& image : m.images)
                if (auto url = co_await uploads_.data_url(image)) out.image_urls.push_back(std::move(*url));
            j.messages.push_back(std::move(out));
        }
    }
    j.accepted = std::chrono::steady_clock::now();
    j.charged = price;
    {
        std::lock_guard lock(mu_);
        live_[started.message_id] = j.gen;
        counters_.started++;
    }
    // Each answer runs on the event loop of the request that started it (one thread, so no
    // strand), detached from that request.
    asio::co_spawn(loop_of(co_await asio::this_coro::executor), run(std::move(j)), asio::detached);
    co_return json::object{{"conversation_id", started.conversation_id},
                           {"user_message_id", started.user_message_id},
                           {"message_id", started.message_id},
                           {"stream", "/api/stream/" + std::to_string(started.message_id)}};
}

awaitable<void> chat_service::stop(const store::user_row& user, store::id_t message_id) {
    std::shared_ptr<generation> g;
    {
        std::lock_guard lock(mu_);
        if (auto it = live_.find(message_id); it != live_.end()) g = it->second;
    }
    if (g) {
        if (g->user_id != user.id && !user.is_admin) throw app_error("not_found", "no such answer");
        g->request_stop(stop_cause::user);
        co_return;
    }
    auto msg = co_await db_.run([message_id](store::store& s) { return s.message(message_id); });
    if (!msg || (msg->user_id != user.id && !user.is_admin)) throw app_error("not_found", "no such answer");
    // Another instance writes it (the one that took the question); finished ones need nothing.
    if (msg->status == "streaming" && db_.shared()) db_.announce(store::news::stop_answer, std::to_string(message_id));
}

void chat_service::start() {
    persist_timer_ = std::make_shared<asio::steady_timer>(ioc_);
    asio::co_spawn(ioc_, persist_loop(), asio::detached);
}

awaitable<void> chat_service::persist_once() {
    std::vector<store::partial_answer> texts;
    std::vector<std::shared_ptr<generation>> writing;
    {
        std::lock_guard lock(mu_);
        for (auto& [id, g] : live_)
            if (auto t = g->take_unsaved()) {
                texts.push_back(std::move(*t));
                writing.push_back(g);
            }
    }
    auto used = pool_.take_usage();
    std::vector<store::key_event_row> events;
    for (auto& e : pool_.take_changes()) events.push_back({e.key_id, e.at, e.status, e.reason});
    if (texts.empty() && used.empty() && events.empty()) co_return;
    const bool health_changed = !events.empty();
    // Saved a slice at a time: a question's transaction commits with the slice it meets, never
    // waits behind thousands of live answers' texts (a slice takes a few milliseconds).
    for (std::size_t from = 0; from == 0 || from < texts.size(); from += partial_saves_per_commit) {
        const auto to = std::min(texts.size(), from + partial_saves_per_commit);
        const auto first = texts.begin() + static_cast<std::ptrdiff_t>(from);
        std::vector<store::partial_answer> slice(std::make_move_iterator(first),
                                                 std::make_move_iterator(first + static_cast<std::ptrdiff_t>(to - from)));
        std::string saved_ids;  // for other instances' streams following these answers
        if (db_.shared())
            for (auto& t : slice) saved_ids += (saved_ids.empty() ? "" : ",") + std::to_string(t.message_id);
        try {
            co_await db_.run([slice = std::move(slice), used = std::move(used), events = std::move(events)](
                                 store::store& s) {
                s.save_partial(slice);
                s.save_key_usage(used);
                s.add_key_events(events);
                return 0;
            });
        } catch (const std::exception& e) {
            if (!has_reason(e, "storage_full")) throw;
            // Never half-kept: answers whose text the disk has no room for end failed and refunded.
            for (auto g = writing.begin() + static_cast<std::ptrdiff_t>(from); g != writing.end(); ++g)
                (*g)->request_stop(stop_cause::storage_full);
            co_return;
        }
        used.clear();  // moved into the first slice's call; emptied for the rest either way
        events.clear();
        if (from == 0 && health_changed) db_.announce(store::news::keys);
        if (!saved_ids.empty()) db_.announce(store::news::answers_saved, std::move(saved_ids));
    }
}

awaitable<void> chat_service::persist_loop() {
    auto timer = persist_timer_;
    // Uploads never sent with a question are swept now and then on the same clock.
    constexpr auto sweep_every = std::chrono::hours(1) / persist_interval;
    for (std::int64_t tick = 0;; ++tick) {
        timer->expires_after(persist_interval);
        auto [ec] = co_await timer->async_wait(as_tuple);
        if (ec) co_return;
        try {
            co_await persist_once();
            if (tick % sweep_every == 0) co_await uploads_.sweep_unsent(unix_now());
        } catch (const std::exception& e) {
            spdlog::error("saving partial answers failed: {}", e.what());
        }
    }
}

awaitable<void> chat_service::drain(std::chrono::seconds grace) {
    {
        std::lock_guard lock(mu_);
        draining_ = true;
    }
    auto deadline = std::chrono::steady_clock::now() + grace;
    asio::steady_timer t(co_await asio::this_coro::executor);
    bool stopped_rest = false;
    for (;;) {
        std::vector<std::shared_ptr<generation>> rest;
        {
            std::lock_guard lock(mu_);
            for (auto& [id, g] : live_)
                if (!g->finished()) rest.push_back(g);  // not those waiting for disk space
        }
        if (rest.empty()) break;
        if (!stopped_rest && std::chrono::steady_clock::now() >= deadline) {
            spdlog::warn("drain: {} answer(s) still running after {} s; interrupting them", rest.size(),
                         grace.count());
            for (auto& g : rest) g->request_stop(stop_cause::shutdown);
            stopped_rest = true;
        }
        t.expires_after(std::chrono::milliseconds(50));
        co_await t.async_wait(as_tuple);
    }
    if (persist_timer_) persist_timer_->cancel();
    co_await persist_once();
}

std::size_t chat_service::in_flight() const {
    std::lock_guard lock(mu_);
    return std::count_if(live_.begin(), live_.end(),
                         [](const auto& kv) { return !kv.second->finished(); });
}

chat_service::counters chat_service::stats() const {
    std::lock_guard lock(mu_);
    return counters_;
}

}  // namespace chatd::chat
