// The OpenAI-compatible API for users' own clients (CONTRACT §13): /v1/models and
// /v1/chat/completions with a personal API key. A question goes through the chat service as
// chat.send does (same charge, refunds, limits, key pool); its answer's events are translated
// into OpenAI's chunks here. No cookies are read, so no Origin is checked; CORS is open.
#include <boost/asio/use_awaitable.hpp>
#include <spdlog/spdlog.h>

#include "auth/api_keys.hpp"
#include "chat/chat_service.hpp"
#include "util/app_error.hpp"
#include "util/unix_time.hpp"
#include "web/front_end.hpp"
#include "web/openai_wire.hpp"

namespace chatd::web {

namespace json = boost::json;
using boost::asio::awaitable;
using openai::api_error;

namespace {

net::response api_response(int status, std::string body) {
    auto res = net::json_response(status, std::move(body));
    res.headers.emplace_back("Access-Control-Allow-Origin", "*");
    res.headers.emplace_back("Cache-Control", "no-store");
    return res;
}

net::response error_response(const api_error& e) { return api_response(e.status, openai::error_body(e)); }

net::response preflight() {
    net::response res;
    res.status = 204;
    res.content_type.clear();
    res.headers = {{"Access-Control-Allow-Origin", "*"},
                   {"Access-Control-Allow-Methods", "GET, POST, OPTIONS"},
                   {"Access-Control-Allow-Headers", "Authorization, Content-Type"},
                   {"Access-Control-Max-Age", "86400"}};
    return res;
}

awaitable<bool> skip() { co_return true; }

// What one of the answer's events becomes on the wire; `ended` once it was the last.
std::string chunks_of(const openai::answer_event& e, const openai::completion_head& head, bool include_usage,
                      bool& ended) {
    if (e.name == "reasoning" || e.name == "delta") return openai::text_chunk(head, openai::text_of(e), e.name == "reasoning");
    ended = true;
    if (e.name == "error") return openai::sse_data(openai::error_body(openai::error_of(e)));
    std::string out = openai::finish_chunk(head, openai::finish_reason_of(e));
    if (include_usage) out += openai::usage_chunk(head, openai::usage_of(e));
    return out + openai::sse_data("[DONE]");
}

}  // namespace

awaitable<front_end::api_access> front_end::api_caller_of(const net::request& req) {
    api_access out;
    if (!p_.site.get_bool("api.enabled")) {
        out.refusal = error_response({403, "permission_error", "api_disabled", "the API is switched off on this site"});
        co_return out;
    }
    std::optional<store::api_caller> caller;
    try {
        caller = co_await p_.api_keys.resolve(req.header("authorization"));
    } catch (const std::exception& e) {
        spdlog::warn("api: cannot look up a key: {}", e.what());
        out.refusal = error_response({503, "server_error", "database_unavailable", "try again later"});
        co_return out;
    }
    if (!caller)
        out.refusal = error_response({401, "invalid_request_error", "invalid_api_key", "Incorrect API key provided."});
    else if (caller->user.banned)
        out.refusal = error_response({403, "permission_error", "user_banned", "this account is banned"});
    else if (!caller->user.api_enabled)
        out.refusal = error_response({403, "permission_error", "forbidden", "the API is switched off for this account"});
    else
        out.caller = std::move(caller);
    co_return out;
}

awaitable<void> front_end::handle_openai(net::request& req, net::responder& r) {
    if (req.method == "OPTIONS") co_return co_await r.send(preflight());
    const bool models = req.path == "/v1/models", completions = req.path == "/v1/chat/completions";
    if (!models && !completions)
        co_return co_await r.send(error_response({404, "invalid_request_error", "unknown_url", "Unknown request URL: " + req.path}));
    if (req.method != (models ? "GET" : "POST")) {
        auto res = error_response({405, "invalid_request_error", "method_not_allowed", "use " + std::string(models ? "GET" : "POST")});
        res.headers.emplace_back("Allow", models ? "GET, OPTIONS" : "POST, OPTIONS");
        co_return co_await r.send(std::move(res));
    }
    auto access = co_await api_caller_of(req);
    if (access.refusal) co_return co_await r.send(std::move(*access.refusal));
    if (models) {
        json::array data;
        auto now = unix_now();
        for (const auto& m : p_.chat.models())
            if (m.enabled) data.push_back(json::object{{"id", m.id}, {"object", "model"}, {"created", now}, {"owned_by", "chatd"}});
        co_return co_await r.send(api_response(200, json::serialize(json::object{{"object", "list"}, {"data", std::move(data)}})));
    }
    co_await handle_completion(req, r, std::move(*access.caller));
}

awaitable<void> front_end::handle_completion(net::request& req, net::responder& r, store::api_caller caller) {
    std::optional<api_error> refusal;
    openai::chat_request body;
    try {
        body = openai::parse_chat_request(req.body);
    } catch (const api_error& e) {
        refusal = e;
    }
    if (!refusal) {
        auto model = p_.chat.find_model(body.model);
        if (!model || !model->enabled)
            refusal = api_error(400, "invalid_request_error", "model_not_found",
                                "The model '" + body.model + "' does not exist");
    }
    store::id_t message_id = 0;
    chat::stream_source source;
    if (!refusal) {
        chat::send_request ask;
        ask.content = openai::question_text(body);
        ask.model = body.model;
        ask.api = chat::api_question{caller.key_id, body.messages, body.max_tokens};
        try {
            auto started = co_await p_.chat.send(caller.user, std::move(ask));
            message_id = started.at("message_id").to_number<store::id_t>();
            source = co_await p_.chat.open(caller.user, message_id);
        } catch (const app_error& e) {
            refusal = openai::error_of_reason(e.reason, e.what());
        } catch (const std::exception& e) {
            spdlog::error("api: user {}: {}", caller.user.id, e.what());
            refusal = api_error(500, "server_error", "internal_error", "internal error");
        }
    }
    if (refusal) co_return co_await r.send(error_response(*refusal));
    spdlog::info("api: user {} key {} ({}) asked {}: answer {}", caller.user.id, caller.key_id, caller.key_name,
                 body.model, message_id);
    openai::completion_head head{"chatcmpl-" + std::to_string(message_id), unix_now(), body.model};
    if (body.stream)
        co_await stream_completion(r, caller.user, std::move(source), head, body.include_usage);
    else
        co_await whole_completion(r, std::move(source), head);
}

awaitable<void> front_end::stream_completion(net::responder& r, const store::user_row& user, chat::stream_source source,
                                             const openai::completion_head& head, bool include_usage) {
    const auto message_id = source.live ? source.live->message_id : source.stored->id;
    net::response res;
    res.content_type = "text/event-stream; charset=utf-8";
    res.headers = {{"Cache-Control", "no-cache"}, {"X-Accel-Buffering", "no"}, {"Access-Control-Allow-Origin", "*"}};
    bool ended = false;
    if (co_await r.open_stream(std::move(res)) && co_await r.write(openai::role_chunk(head))) {
        openai::answer_event_reader reader;
        co_await p_.chat.follow(std::move(source), 0, [&](std::string chunk) {
            if (chunk.starts_with(":")) return r.write(std::move(chunk));  // a keepalive comment
            reader.feed(chunk);
            std::string out;
            for (const auto& e : reader.take()) out += chunks_of(e, head, include_usage, ended);
            return out.empty() ? skip() : r.write(std::move(out));
        });
    }
    // The client went away before the end: the answer stops, charged as the web's stop.
    if (!ended) {
        try {
            co_await p_.chat.stop(user, message_id);
        } catch (const std::exception& e) {
            spdlog::warn("api: answer {}: cannot stop it: {}", message_id, e.what());
        }
    }
}

awaitable<void> front_end::whole_completion(net::responder& r, chat::stream_source source,
                                            const openai::completion_head& head) {
    openai::answer_event_reader reader;
    co_await p_.chat.follow(std::move(source), 0, [&reader](std::string chunk) {
        reader.feed(chunk);
        return skip();
    });
    std::string content, reasoning;
    for (const auto& e : reader.take()) {
        if (e.name == "delta") content += openai::text_of(e);
        else if (e.name == "reasoning") reasoning += openai::text_of(e);
        else if (e.name == "done")
            co_return co_await r.send(
                api_response(200, openai::completion(head, content, reasoning, openai::finish_reason_of(e),
                                                    openai::usage_of(e))));
        else if (e.name == "error")
            co_return co_await r.send(error_response(openai::error_of(e)));
    }
    co_await r.send(error_response({500, "server_error", "internal_error", "the answer ended without a result"}));
}

}  // namespace chatd::web
