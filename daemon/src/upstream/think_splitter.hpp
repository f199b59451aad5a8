#pragma once
// Models served raw (an R1 distill behind vLLM or Ollama, say) put their reasoning at the
// start of the content: "<think>…</think>answer". This splits it off a stream whose chunks may
// cut the tags anywhere, holding back only what could still be part of a tag. Pure, no I/O.
#include <string>
#include <string_view>

#include "upstream/upstream_client.hpp"

namespace chatd::upstream {

class think_splitter {
public:
    // Feeds streamed content; `emit` receives what is decided, in order.
    void feed(std::string_view content, const delta_fn& emit);
    // The stream ended: releases anything held back (an unclosed <think> is reasoning).
    void finish(const delta_fn& emit);

private:
    void answer(std::string_view text, const delta_fn& emit);

    enum class phase { opening, thinking, answering };
    phase phase_ = phase::opening;
    std::string held_;
    bool answer_started_ = false;  // blank lines between </think> and the answer are dropped
};

}  // namespace chatd::upstream
