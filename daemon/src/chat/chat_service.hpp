#pragma once
// Questions and answers: accepts a question (limits, charge, context), runs the answer as a
// server-side task over the key pool with failover, persists it as it grows, and lets any
// number of SSE streams follow or replay it.
#include <boost/asio/awaitable.hpp>
#include <boost/asio/io_context.hpp>
#include <boost/asio/steady_timer.hpp>
#include <boost/json.hpp>
#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <mutex>

#include "chat/attachments.hpp"
#include "chat/context.hpp"
#include "chat/generation.hpp"
#include "chat/word_filter.hpp"
#include "config/config.hpp"
#include "config/settings.hpp"
#include "store/database.hpp"
#include "upstream/key_pool.hpp"
#include "upstream/upstream_client.hpp"
#include "util/rate_limiter.hpp"
#include "util/unix_time.hpp"

namespace chatd::chat {

// A question asked through the OpenAI-compatible API (CONTRACT §13).
struct api_question {
    store::id_t key_id = 0;
    std::vector<client_message> messages;  // the whole history, as the client sent it
    int max_tokens = 0;                    // the client's cap, within the model's; 0: none
};

struct send_request {
    std::string content;
    std::optional<store::id_t> conversation_id;
    std::optional<std::string> model;
    std::optional<store::id_t> role_id;
    std::optional<std::string> system_prompt;
    std::optional<store::id_t> parent_id;
    std::vector<std::string> attachments;  // upload ids
    // Set: asked through the API. The client's messages are the context, in a conversation of
    // its own marked with the key and left out of the web's history; `content` is the last
    // user message, as the operator's logs show it.
    std::optional<api_question> api;
};

// Where a stream reads from: a running answer, or a stored one.
// What a stream follows: the answer being written, or its stored row once it has ended. Small:
// each open stream holds one.
struct stream_source {
    std::shared_ptr<generation> live;
    std::shared_ptr<const store::message_row> stored;
};

using write_fn = std::function<boost::asio::awaitable<bool>(std::string)>;

class chat_service {
public:
    struct counters {
        std::int64_t started = 0, done = 0, stopped = 0, failed = 0, interrupted = 0;
        std::int64_t upstream_attempts = 0, retries = 0;
    };

    chat_service(boost::asio::io_context& ioc, store::database& db, upstream::client& client,
                 upstream::key_pool& pool, settings& s, std::function<std::shared_ptr<const config>()> cfg,
                 attachments& uploads);

    void set_models(std::vector<store::model_row> models);
    // A model whose answer carried reasoning is shown as a reasoning model from then on.
    boost::asio::awaitable<void> learn_reasoning(std::string model_id);
    std::vector<store::model_row> models() const;
    std::optional<store::model_row> find_model(const std::string& id) const;
    std::string default_model() const;
    // The operator's sensitive words (one per line): questions with one are refused, answers masked.
    void set_sensitive_words(std::string_view lines);

    // Errors are app_error with the contract's reasons.
    boost::asio::awaitable<boost::json::object> send(const store::user_row& user, send_request req);
    // `attachments`, when given, replace the question's own (CONTRACT §10).
    boost::asio::awaitable<boost::json::object> regenerate(const store::user_row& user, store::id_t message_id,
                                                           std::optional<std::vector<std::string>> attachments);
    boost::asio::awaitable<void> stop(const store::user_row& user, store::id_t message_id);

    // Checks the viewer may read the message (owner or admin); throws not_found otherwise.
    boost::asio::awaitable<stream_source> open(const store::user_row& viewer, store::id_t message_id);
    // Writes the events after byte offset `after` until the answer ends or the client goes.
    boost::asio::awaitable<void> follow(stream_source src, std::size_t after, write_fn write);

    void start();  // periodic persistence of partial answers and key counters
    // SIGTERM: waits up to `grace` for answers in flight, then stops the rest (interrupted).
    boost::asio::awaitable<void> drain(std::chrono::seconds grace);
    std::size_t in_flight() const;
    counters stats() const;

    static constexpr auto keepalive_interval = std::chrono::seconds(15);
    static constexpr auto persist_interval = std::chrono::milliseconds(500);
    // Live answers' texts saved in one commit at most (persist_once).
    static constexpr std::size_t partial_saves_per_commit = 500;
    // How often the final state of an answer that a full disk refused is tried again.
    static constexpr auto unsaved_retry_interval = std::chrono::seconds(2);

private:
    boost::asio::awaitable<void> replay(const store::message_row& m, std::size_t after, const write_fn& write);
    boost::asio::awaitable<std::optional<std::size_t>> write_saved_text(const store::message_row& m, std::size_t from,
                                                                        const write_fn& write);
    boost::asio::awaitable<void> follow_elsewhere(store::message_row m, std::size_t after, write_fn write);
    // Calls `wake` whenever another instance saves answer `id`'s text, until the handle goes.
    std::shared_ptr<void> watch_saves(store::id_t id, std::function<void()> wake);
    // Other instances' news: saved answers wake the streams following them here; a stop
    // reaches the answer if this instance writes it.
    void listen_for_news();
    struct job {
        std::shared_ptr<generation> gen;
        store::model_row model;
        std::vector<upstream::chat_message> messages;
        std::chrono::steady_clock::time_point accepted;
        std::int64_t charged = 0;
        int max_tokens = 0;  // an API client's cap, when lower than the model's
        int prompt_estimate = 0;  // the context's tokens as counted from its text
    };
    // How many of the uploads are images; the files' text must pass the sensitive-word filter.
    boost::asio::awaitable<std::int64_t> checked_images(const store::user_row& user,
                                                        const std::vector<std::string>& upload_ids);
    static void refuse_images_unless_vision(std::int64_t images, const store::model_row& model);
    boost::asio::awaitable<boost::json::object> launch(const store::user_row& user,
                                                       store::started_answer started,
                                                       context_selector context,
                                                       const store::model_row& model, std::int64_t price,
                                                       const api_question* api = nullptr);
    boost::asio::awaitable<void> run(job j);
    struct answer_end {
        std::string status, error_reason, error_message;
        std::optional<std::int64_t> key_used, first_token_ms;
        std::optional<upstream::usage> usage;
        bool got_text = false;
        std::optional<std::int64_t> reasoning_ms;
        std::string finish_reason;  // the upstream's, when it gave one
    };
    boost::asio::awaitable<void> store_answer(job& j, answer_end e);
    boost::asio::awaitable<void> store_when_possible(store::finished_answer f);
    boost::asio::awaitable<void> persist_loop();
    boost::asio::awaitable<void> persist_once();
    void reserve_slot(const store::user_row& user);
    store::load_check asker_limits() const;
    void release_slot(store::id_t user_id);
    std::shared_ptr<const word_filter> words() const;
    void check_words(std::string_view text) const;
    boost::json::object balance_json(const store::balance& b) const;

    boost::asio::io_context& ioc_;
    store::database& db_;
    upstream::client& client_;
    upstream::key_pool& pool_;
    settings& settings_;
    std::function<std::shared_ptr<const config>()> config_;
    rate_limiter questions_;
    attachments& uploads_;

    mutable std::mutex mu_;
    std::map<store::id_t, std::shared_ptr<generation>> live_;
    std::map<store::id_t, int> per_user_;
    std::vector<store::model_row> models_;
    std::shared_ptr<const word_filter> words_;
    counters counters_;
    bool draining_ = false;
    std::shared_ptr<boost::asio::steady_timer> persist_timer_;
    std::mutex watch_mu_;
    std::multimap<store::id_t, std::shared_ptr<std::function<void()>>> save_watchers_;
};

boost::json::object balance_to_json(const store::balance& b, std::int64_t now);
// The pool's in-memory key and its stored row.
using chatd::unix_now;

}  // namespace chatd::chat
