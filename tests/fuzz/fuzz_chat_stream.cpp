// A streamed chat completion as an upstream sends it, through the SSE parser and the chunk
// reader: no exception escapes, token counts are never negative, the text handed on is valid
// UTF-8 (JSON strings are), and nothing is handed on once the stream is done or failed.
#include <string>

#include "fuzz_check.hpp"
#include "upstream/chat_chunk.hpp"
#include "util/text.hpp"

using namespace chatd;
using upstream::text_kind;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = fuzz::as_text(data, size);
    upstream::sse_parser parser;
    upstream::outcome out;
    upstream::stream_state st;
    std::string reasoning, answer;
    bool ended = false;
    upstream::delta_fn on_delta = [&](text_kind kind, std::string_view text) {
        FUZZ_CHECK(!ended);
        (kind == text_kind::reasoning ? reasoning : answer).append(text);
    };
    parser.feed(bytes, [&](const upstream::sse_event& ev) {
        ended = st.done || st.failed;
        upstream::on_stream_event(ev, out, st, on_delta);
    });
    FUZZ_CHECK(valid_utf8(reasoning) && valid_utf8(answer));
    FUZZ_CHECK(out.got_delta || (reasoning.empty() && answer.empty()));
    if (out.tokens) {
        FUZZ_CHECK(out.tokens->prompt_tokens >= 0 && out.tokens->completion_tokens >= 0);
        FUZZ_CHECK(!out.tokens->reasoning_tokens || *out.tokens->reasoning_tokens >= 0);
    }
    if (st.failed) FUZZ_CHECK(out.what != upstream::outcome::kind::ok && !out.error_message.empty());
    return 0;
}
