#pragma once
// Reads the events of a streamed chat completion (OpenAI chat.completion.chunk objects):
// content and reasoning deltas go to the caller, usage, finish_reason and in-stream errors into
// the outcome.
// No I/O, so every shape of chunk is tested without sockets.
#include "upstream/sse_parser.hpp"
#include "upstream/think_splitter.hpp"
#include "upstream/upstream_client.hpp"

namespace chatd::upstream {

struct stream_state {
    bool done = false;    // [DONE] seen
    bool failed = false;  // an error event or a malformed chunk ended the stream
    think_splitter content;
};

// Takes one SSE event of the stream; ignores everything once the stream is done or failed.
void on_stream_event(const sse_event& ev, outcome& out, stream_state& st, const delta_fn& on_delta);

}  // namespace chatd::upstream
