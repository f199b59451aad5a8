#include "fake_upstream_request.hpp"

#include <boost/json.hpp>

#include <algorithm>
#include <charconv>

namespace chatd::fake {

namespace json = boost::json;

namespace {

std::size_t count_code_points(std::string_view s) {
    std::size_t n = 0;
    for (char c : s)
        if ((static_cast<unsigned char>(c) & 0xC0) != 0x80) ++n;
    return n;
}

// Multimodal messages carry a list of parts; only the text parts matter here.
std::string content_text(const json::value& content) {
    if (auto s = content.if_string()) return std::string(*s);
    std::string text;
    if (auto parts = content.if_array())
        for (const auto& part : *parts)
            if (auto obj = part.if_object())
                if (auto t = obj->if_contains("text"); t && t->is_string())
                    text += t->get_string();
    return text;
}

std::string url_decode(std::string_view s) {
    std::string out;
    for (std::size_t i = 0; i < s.size(); ++i) {
        if (s[i] == '%' && i + 2 < s.size()) {
            unsigned v = 0;
            auto [end, ec] = std::from_chars(s.data() + i + 1, s.data() + i + 3, v, 16);
            if (ec == std::errc{} && end == s.data() + i + 3) {
                out += static_cast<char>(v);
                i += 2;
                continue;
            }
        }
        out += s[i] == '+' ? ' ' : s[i];
    }
    return out;
}

}  // namespace

std::optional<std::string> query_param(std::string_view target, std::string_view name) {
    auto q = target.find('?');
    if (q == std::string_view::npos) return std::nullopt;
    auto query = target.substr(q + 1);
    while (!query.empty()) {
        auto amp = query.find('&');
        auto pair = query.substr(0, amp);
        auto eq = pair.find('=');
        if (pair.substr(0, eq) == name)
            return eq == std::string_view::npos ? std::string{} : url_decode(pair.substr(eq + 1));
        if (amp == std::string_view::npos) break;
        query = query.substr(amp + 1);
    }
    return std::nullopt;
}

std::optional<chat_request> parse_chat(const std::string& body) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return std::nullopt;
    const auto& o = v.get_object();
    chat_request r;
    if (auto m = o.if_contains("model"); m && m->is_string()) r.model = m->get_string();
    if (auto s = o.if_contains("stream"); s && s->is_bool()) r.stream = s->get_bool();
    r.has_stream_options = o.contains("stream_options");
    if (auto so = o.if_contains("stream_options"); so && so->is_object())
        if (auto iu = so->get_object().if_contains("include_usage"); iu && iu->is_bool())
            r.include_usage = iu->get_bool();
    for (const char* cap : {"max_tokens", "max_completion_tokens"})
        if (auto m = o.if_contains(cap); m && m->is_int64() && m->get_int64() > 0)
            r.max_tokens = static_cast<std::size_t>(m->get_int64());
    std::size_t chars = 0;
    if (auto msgs = o.if_contains("messages"); msgs && msgs->is_array()) {
        bool first = true;
        for (const auto& m : msgs->get_array()) {
            if (!m.is_object()) continue;
            const auto& mo = m.get_object();
            std::string role;
            if (auto rv = mo.if_contains("role"); rv && rv->is_string()) role = rv->get_string();
            std::string text;
            if (auto c = mo.if_contains("content")) text = content_text(*c);
            chars += count_code_points(text);
            if (!first) r.transcript += '\n';
            first = false;
            r.transcript += role + ": " + text;
            if (role == "user") r.last_question = text;
        }
    }
    r.prompt_tokens = std::max<std::size_t>(1, chars / 4);
    return r;
}

}  // namespace chatd::fake
