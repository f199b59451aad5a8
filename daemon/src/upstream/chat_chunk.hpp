#pragma once
// Reads the events of a streamed chat completion (OpenAI chat.completion.chunk objects):
// content and reasoning deltas go to the caller, usage, finish_reason and in-stream errors into
// the outcome.
// No I/O, so every shape of chunk is tested without sockets.
#include <cstddef>

#include "upstream/sse_parser.hpp"
#include "upstream/think_splitter.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::upstream {

// The most reasoning and answer text one stream may deliver. A real answer is a few hundred KiB at
// most (128k tokens); an upstream that keeps sending is cut off here, so an answer's memory (and
// each stream's copy of it) stays bounded.
inline constexpr std::size_t max_answer_bytes = 2 * 1024 * 1024;

struct stream_state {
    bool done = false;    // [DONE] seen
    bool failed = false;  // an error event, a malformed chunk or too long an answer ended the stream
    std::size_t delivered = 0;  // bytes of text handed on so far
    think_splitter content;
};

// Takes one SSE event of the stream; ignores everything once the stream is done or failed.
void on_stream_event(const sse_event& ev, outcome& out, stream_state& st, const delta_fn& on_delta);

}  // namespace chatd::upstream
