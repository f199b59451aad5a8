#include <boost/json.hpp>

#include "upstream/upstream_client.hpp"

namespace chatd::upstream {

std::string chat_completion_body(const chat_request& r) {
    namespace json = boost::json;
    json::array messages;
    messages.reserve(r.messages.size());
    for (auto& m : r.messages) {
        if (m.image_urls.empty()) {
            messages.push_back(json::object{{"role", m.role}, {"content", m.content}});
            continue;
        }
        // Vision input: the text, then each image, as OpenAI's content parts.
        json::array parts;
        if (!m.content.empty()) parts.push_back(json::object{{"type", "text"}, {"text", m.content}});
        for (auto& url : m.image_urls)
            parts.push_back(json::object{{"type", "image_url"}, {"image_url", json::object{{"url", url}}}});
        messages.push_back(json::object{{"role", m.role}, {"content", std::move(parts)}});
    }
    json::object body{{"model", r.model}, {"messages", std::move(messages)}, {"stream", true}};
    if (r.options.include_usage) body["stream_options"] = json::object{{"include_usage", true}};
    if (r.options.max_tokens > 0) body["max_tokens"] = r.options.max_tokens;
    return json::serialize(body);
}

}  // namespace chatd::upstream
