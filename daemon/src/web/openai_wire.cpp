#include "web/openai_wire.hpp"

namespace chatd::web::openai {

namespace json = boost::json;

std::string error_body(const api_error& e) {
    return json::serialize(json::object{
        {"error", {{"message", e.what()}, {"type", e.type}, {"param", nullptr}, {"code", e.code}}}});
}

api_error error_of_reason(std::string_view reason, const std::string& message) {
    if (reason == "insufficient_credits") return {402, "insufficient_quota", "insufficient_credits", message};
    if (reason == "too_many_requests" || reason == "busy") return {429, "requests", "rate_limit_exceeded", message};
    if (reason == "invalid_params") return {400, "invalid_request_error", "invalid_request", message};
    if (reason == "content_blocked") return {400, "invalid_request_error", "content_blocked", message};
    if (reason == "no_upstream") return {503, "server_error", "no_upstream", message};
    if (reason == "forbidden" || reason == "user_banned") return {403, "permission_error", std::string(reason), message};
    if (reason == "unauthorized") return {401, "invalid_request_error", "invalid_api_key", message};
    if (reason == "storage_full" || reason == "database_unavailable")
        return {503, "server_error", std::string(reason), message};
    if (reason.starts_with("upstream_") || reason == "interrupted") return {502, "server_error", std::string(reason), message};
    return {500, "server_error", reason.empty() ? "internal_error" : std::string(reason), message};
}

namespace {

api_error bad_request(const std::string& message) { return {400, "invalid_request_error", "invalid_request", message}; }

// A message's content: a string, or parts of text and images (image_url as an object or a string).
void read_content(const json::value& v, chat::client_message& out) {
    if (v.is_null()) return;
    if (v.is_string()) {
        out.content = std::string(v.get_string());
        return;
    }
    if (!v.is_array()) throw bad_request("message content must be a string or an array of parts");
    for (const auto& part : v.get_array()) {
        const auto* o = part.if_object();
        const auto* type = o ? o->if_contains("type") : nullptr;
        if (!type || !type->is_string()) throw bad_request("each content part needs a type");
        if (type->get_string() == "text") {
            const auto* text = o->if_contains("text");
            if (!text || !text->is_string()) throw bad_request("a text part needs its text");
            if (!out.content.empty()) out.content += "\n";
            out.content += std::string(text->get_string());
        } else if (type->get_string() == "image_url") {
            const auto* image = o->if_contains("image_url");
            const json::value* url = image && image->is_object() ? image->get_object().if_contains("url") : image;
            if (!url || !url->is_string() || url->get_string().empty()) throw bad_request("an image_url part needs its url");
            out.image_urls.emplace_back(url->get_string());
        } else {
            throw bad_request("unsupported content part type '" + std::string(type->get_string()) + "'");
        }
    }
}

int int_field(const json::object& o, std::string_view name) {
    const auto* v = o.if_contains(name);
    if (!v || v->is_null()) return 0;
    if (!v->is_int64() && !v->is_uint64()) throw bad_request(std::string(name) + " must be an integer");
    auto n = v->to_number<std::int64_t>();
    if (n < 1 || n > 1'000'000) throw bad_request(std::string(name) + " is out of range");
    return static_cast<int>(n);
}

}  // namespace

chat_request parse_chat_request(std::string_view body) {
    boost::system::error_code ec;
    auto doc = json::parse(body, ec);
    if (ec || !doc.is_object()) throw bad_request("the body must be a JSON object");
    const auto& o = doc.get_object();
    chat_request r;
    const auto* model = o.if_contains("model");
    if (!model || !model->is_string() || model->get_string().empty()) throw bad_request("model is required");
    r.model = std::string(model->get_string());
    const auto* messages = o.if_contains("messages");
    if (!messages || !messages->is_array() || messages->get_array().empty())
        throw bad_request("messages must be a non-empty array");
    for (const auto& m : messages->get_array()) {
        const auto* mo = m.if_object();
        const auto* role = mo ? mo->if_contains("role") : nullptr;
        if (!role || !role->is_string()) throw bad_request("each message needs a role");
        chat::client_message out;
        out.role = std::string(role->get_string());
        if (out.role == "developer") out.role = "system";
        if (out.role != "system" && out.role != "user" && out.role != "assistant")
            throw bad_request("unsupported message role '" + out.role + "'");
        if (const auto* content = mo->if_contains("content")) read_content(*content, out);
        if (out.role != "user" && !out.image_urls.empty()) throw bad_request("only user messages may carry images");
        r.messages.push_back(std::move(out));
    }
    if (r.messages.back().role != "user") throw bad_request("the last message must be the user's");
    if (r.messages.back().content.empty() && r.messages.back().image_urls.empty())
        throw bad_request("the last message is empty");
    if (const auto* stream = o.if_contains("stream"); stream && !stream->is_null()) {
        if (!stream->is_bool()) throw bad_request("stream must be true or false");
        r.stream = stream->get_bool();
    }
    if (const auto* so = o.if_contains("stream_options"); so && so->is_object())
        if (const auto* usage = so->get_object().if_contains("include_usage"); usage && usage->is_bool())
            r.include_usage = usage->get_bool();
    r.max_tokens = int_field(o, "max_completion_tokens");
    if (!r.max_tokens) r.max_tokens = int_field(o, "max_tokens");
    return r;
}

std::string question_text(const chat_request& r) {
    const auto& last = r.messages.back();
    if (!last.content.empty()) return last.content;
    return "[image]";
}

std::string sse_data(std::string_view json) {
    std::string out = "data: ";
    out.append(json).append("\n\n");
    return out;
}

namespace {

json::object chunk_of(const completion_head& h, json::array choices) {
    return {{"id", h.id}, {"object", "chat.completion.chunk"}, {"created", h.created}, {"model", h.model},
            {"choices", std::move(choices)}};
}

json::array one_choice(json::object delta, json::value finish_reason) {
    return {json::object{{"index", 0}, {"delta", std::move(delta)}, {"finish_reason", std::move(finish_reason)}}};
}

json::object usage_json(const token_usage& u) {
    return {{"prompt_tokens", u.prompt_tokens}, {"completion_tokens", u.completion_tokens},
            {"total_tokens", u.prompt_tokens + u.completion_tokens}};
}

}  // namespace

std::string role_chunk(const completion_head& h) {
    return sse_data(json::serialize(chunk_of(h, one_choice({{"role", "assistant"}, {"content", ""}}, nullptr))));
}

std::string text_chunk(const completion_head& h, std::string_view text, bool reasoning) {
    json::object delta{{reasoning ? "reasoning_content" : "content", text}};
    return sse_data(json::serialize(chunk_of(h, one_choice(std::move(delta), nullptr))));
}

std::string finish_chunk(const completion_head& h, std::string_view finish_reason) {
    return sse_data(json::serialize(chunk_of(h, one_choice({}, json::string(finish_reason)))));
}

std::string usage_chunk(const completion_head& h, const token_usage& u) {
    auto o = chunk_of(h, {});
    o["usage"] = usage_json(u);
    return sse_data(json::serialize(o));
}

std::string completion(const completion_head& h, std::string_view content, std::string_view reasoning,
                       std::string_view finish_reason, const token_usage& u) {
    json::object message{{"role", "assistant"}, {"content", content}};
    if (!reasoning.empty()) message["reasoning_content"] = reasoning;
    return json::serialize(json::object{
        {"id", h.id},
        {"object", "chat.completion"},
        {"created", h.created},
        {"model", h.model},
        {"choices", json::array{json::object{{"index", 0}, {"message", std::move(message)},
                                             {"finish_reason", finish_reason}}}},
        {"usage", usage_json(u)}});
}

std::string_view text_of(const answer_event& e) {
    const auto* t = e.data.if_contains("text");
    return t && t->is_string() ? std::string_view(t->get_string()) : std::string_view{};
}

token_usage usage_of(const answer_event& done) {
    token_usage u;
    const auto* usage = done.data.if_contains("usage");
    if (!usage || !usage->is_object()) return u;
    auto number = [&](std::string_view name) -> std::int64_t {
        const auto* v = usage->get_object().if_contains(name);
        return v && v->is_number() ? v->to_number<std::int64_t>() : 0;
    };
    u.prompt_tokens = number("prompt_tokens");
    u.completion_tokens = number("completion_tokens");
    return u;
}

std::string_view finish_reason_of(const answer_event& done) {
    const auto* reason = done.data.if_contains("finish_reason");
    if (reason && reason->is_string())
        for (std::string_view cut_short : {"length", "content_filter"})
            if (reason->get_string() == cut_short) return cut_short;
    return "stop";
}

api_error error_of(const answer_event& error) {
    const auto* reason = error.data.if_contains("reason");
    const auto* message = error.data.if_contains("message");
    return error_of_reason(reason && reason->is_string() ? std::string_view(reason->get_string()) : "",
                           message && message->is_string() ? std::string(message->get_string()) : "");
}

void answer_event_reader::feed(std::string_view text) {
    pending_.append(text);
    std::size_t end;
    while ((end = pending_.find("\n\n")) != std::string::npos) {
        std::string_view block(pending_.data(), end);
        answer_event e;
        std::string data;
        while (!block.empty()) {
            auto nl = block.find('\n');
            auto line = block.substr(0, nl);
            if (line.starts_with("event: ")) e.name = std::string(line.substr(7));
            else if (line.starts_with("data: ")) data.append(line.substr(6));
            block = nl == std::string_view::npos ? std::string_view{} : block.substr(nl + 1);
        }
        if (!e.name.empty()) {
            boost::system::error_code ec;
            auto v = json::parse(data, ec);
            if (!ec && v.is_object()) e.data = std::move(v.get_object());
            ready_.push_back(std::move(e));
        }
        pending_.erase(0, end + 2);
    }
}

std::vector<answer_event> answer_event_reader::take() { return std::exchange(ready_, {}); }

}  // namespace chatd::web::openai
