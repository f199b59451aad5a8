#pragma once
// Token counts for answers whose upstream reported no usage (stream_usage off, or a gateway
// that drops it): an estimate from the text, good to about 20 % for the BPE tokenizers of
// today's models, so cost figures stay meaningful. Answers counted this way are marked.
#include <string_view>
#include <vector>

#include "upstream/upstream_client.hpp"

namespace chatd::chat {

// About four characters of Latin text per token, one per CJK (or other non-ASCII) character.
int estimate_tokens(std::string_view text);
// A prompt: every message's text plus the few tokens of framing each message costs.
int estimate_prompt_tokens(const std::vector<upstream::chat_message>& messages);

}  // namespace chatd::chat
