#include "upstream/chat_chunk.hpp"

#include <algorithm>
#include <boost/json/monotonic_resource.hpp>
#include <boost/json/parse.hpp>
#include <boost/json/value.hpp>
#include <cstdint>
#include <limits>
#include <string>

#include "upstream/error_reply.hpp"

namespace chatd::upstream {
namespace {

namespace json = boost::json;

constexpr std::size_t max_chunk_depth = 32;

// Token counts as an int, clamped: a provider's odd number must not wrap into a charge.
int to_int(const json::value* v) {
    constexpr int int_max = std::numeric_limits<int>::max();
    if (!v) return 0;
    if (v->is_int64())
        return static_cast<int>(std::clamp<std::int64_t>(v->get_int64(), 0, int_max));
    if (v->is_uint64()) return static_cast<int>(std::min<std::uint64_t>(v->get_uint64(), int_max));
    if (v->is_double()) return static_cast<int>(std::clamp(v->get_double(), 0.0, double{int_max}));
    return 0;
}

}  // namespace

void on_stream_event(const sse_event& ev, outcome& out, stream_state& st,
                     const delta_fn& on_delta) {
    if (st.done || st.failed) return;
    // One pointer captured, so the std::function keeps it inline: this runs for every token.
    struct delivery {
        outcome& out;
        stream_state& st;
        const delta_fn& on_delta;
    } to{out, st, on_delta};
    const delta_fn deliver = [&to](text_kind kind, std::string_view text) {
        auto& [out, st, on_delta] = to;
        if (st.failed) return;
        if (text.size() > max_answer_bytes - st.delivered) {
            out.what = outcome::kind::malformed;
            out.error_message = "the answer grew past " + std::to_string(max_answer_bytes >> 20) + " MiB";
            st.failed = true;
            return;
        }
        st.delivered += text.size();
        out.got_delta = true;
        if (on_delta) on_delta(kind, text);
    };
    if (ev.data == "[DONE]") {
        st.content.finish(deliver);
        st.done = true;
        return;
    }
    boost::system::error_code ec;
    // A chunk is a few hundred bytes: its values live in this buffer, not on the heap.
    unsigned char scratch[4096];
    json::monotonic_resource chunk_memory(scratch, sizeof scratch);
    // A real chunk nests five deep; deeper nesting is refused early, before it costs memory.
    // Text that is not UTF-8 is refused too (Boost.JSON's default), so browsers never get any.
    json::parse_options limits;
    limits.max_depth = max_chunk_depth;
    auto v = json::parse(ev.data, ec, &chunk_memory, limits);
    if (ec || !v.is_object()) {
        out.what = outcome::kind::malformed;
        out.error_message = "unparseable stream chunk: " + excerpt(ev.data);
        st.failed = true;
        return;
    }
    const auto& obj = v.get_object();
    if (const auto* err = obj.if_contains("error"); err && !err->is_null()) {
        out.what = outcome::kind::http_error;
        take_error(*err, out);
        if (out.error_message.empty()) out.error_message = "error event in the stream";
        st.failed = true;
        return;
    }
    if (const auto* u = obj.if_contains("usage"); u && u->is_object()) {
        const auto& uo = u->get_object();
        out.tokens = usage{to_int(uo.if_contains("prompt_tokens")),
                           to_int(uo.if_contains("completion_tokens")), std::nullopt};
        if (const auto* details = uo.if_contains("completion_tokens_details"); details && details->is_object())
            if (const auto* r = details->get_object().if_contains("reasoning_tokens"); r && r->is_number())
                out.tokens->reasoning_tokens = to_int(r);
    }
    const auto* choices = obj.if_contains("choices");
    if (!choices || !choices->is_array() || choices->get_array().empty()) return;
    const auto& first = choices->get_array().front();
    if (!first.is_object()) return;
    if (const auto* delta = first.get_object().if_contains("delta"); delta && delta->is_object()) {
        const auto& d = delta->get_object();
        // DeepSeek, Qwen, SiliconFlow and Moonshot name it reasoning_content; OpenRouter reasoning.
        for (const char* field : {"reasoning_content", "reasoning"}) {
            const auto* r = d.if_contains(field);
            if (r && r->is_string() && !r->get_string().empty()) {
                deliver(text_kind::reasoning, std::string_view(r->get_string().data(), r->get_string().size()));
                break;
            }
        }
        const auto* content = d.if_contains("content");
        if (content && content->is_string() && !content->get_string().empty())
            st.content.feed(std::string_view(content->get_string().data(), content->get_string().size()), deliver);
    }
    if (const auto* fin = first.get_object().if_contains("finish_reason");
        fin && fin->is_string()) {
        out.finish_reason = std::string(fin->get_string());
        st.content.finish(deliver);
    }
}

}  // namespace chatd::upstream
