#include "fake_upstream_hostile.hpp"

#include <algorithm>
#include <cstdio>

namespace chatd::fake {

namespace {

constexpr std::size_t filler_size = 64 * 1024;

constexpr std::string_view role_event =
    "data: "
    "{\"id\":\"chatcmpl-hostile\",\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,"
    "\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"finish_reason\":null}]}\n\n";
// A content event cut open before its text: the text and content_tail follow.
constexpr std::string_view content_head =
    "data: "
    "{\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{\"content\":\"";
constexpr std::string_view content_tail = "\"},\"finish_reason\":null}]}\n\n";
constexpr std::string_view stop_and_done =
    "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":{},"
    "\"finish_reason\":\"stop\"}]}\n\ndata: [DONE]\n\n";
constexpr std::string_view last_chunk = "0\r\n\r\n";

std::string content_event(std::string_view text) {
    return std::string(content_head) + std::string(text) + std::string(content_tail);
}

}  // namespace

bool hostile_script::handles(std::string_view behaviour) {
    for (std::string_view b : {"longline", "endless_line", "endless_event", "endless_chunk_size",
                               "flood", "badutf8", "deepjson"})
        if (behaviour == b) return true;
    return false;
}

hostile_script::hostile_script(const plan& p) : plan_(p), fill_(filler_size, 'x') {}

void hostile_script::chunk(std::string_view payload) {
    if (payload.empty()) return;  // an empty chunk would end the body
    char size_line[24];
    int len = std::snprintf(size_line, sizeof size_line, "%zx\r\n", payload.size());
    out_.append(size_line, len);
    out_.append(payload);
    out_.append("\r\n");
}

void hostile_script::filler(std::size_t n) {
    chunk(std::string_view(fill_).substr(0, std::min(n, fill_.size())));
}

// One millisecond's worth of events, each its own HTTP chunk, due on that millisecond.
hostile_script::piece hostile_script::flood_step(std::size_t step) {
    const std::size_t per_ms = std::max(1, plan_.rate / 1000);
    const std::string event = content_event(std::string(std::max(1, plan_.chars), 'a'));
    for (std::size_t i = 0; i < per_ms; ++i) chunk(event);
    return {out_, ms{static_cast<long>(step)}};
}

std::optional<hostile_script::piece> hostile_script::next() {
    out_.clear();
    const auto& b = plan_.behaviour;
    const std::size_t step = step_++;
    if (step == 0) {
        chunk(role_event);
        if (b == "longline" || b == "endless_line") chunk(content_head);
        if (b == "badutf8" || b == "deepjson") chunk(content_event("fine "));
        return piece{out_, b == "flood" ? std::optional<ms>(ms{0}) : std::nullopt};
    }
    auto finish = [&] {
        chunk(stop_and_done);
        out_.append(last_chunk);
        return piece{out_, std::nullopt};
    };
    if (b == "endless_line") {
        filler(filler_size);
        return piece{out_, std::nullopt};
    }
    if (b == "endless_chunk_size") {
        // An HTTP chunk's size line whose extension never ends: the SSE layer never sees a byte.
        if (step == 1) out_.append("1;ext=");
        out_.append(fill_);
        return piece{out_, std::nullopt};
    }
    if (b == "endless_event") {
        // data: lines, never the blank line that would end the event.
        chunk("data: " + fill_ + "\n");
        return piece{out_, std::nullopt};
    }
    if (b == "longline") {
        const std::size_t total = static_cast<std::size_t>(plan_.mb) * 1024 * 1024;
        if (sent_ < total) {
            auto n = std::min(filler_size, total - sent_);
            filler(n);
            sent_ += n;
            return piece{out_, std::nullopt};
        }
        if (sent_ == total) {
            ++sent_;
            chunk(content_tail);
            return finish();
        }
        return std::nullopt;
    }
    if (b == "flood") {
        const std::size_t steps = static_cast<std::size_t>(plan_.seconds) * 1000;
        if (step <= steps) return flood_step(step);
        if (step == steps + 1) return finish();
        return std::nullopt;
    }
    if (step == 1) {
        if (b == "badutf8") {
            // A lone continuation byte, a truncated sequence and bytes UTF-8 never uses.
            chunk(content_event("bad \x80 \xC3( \xFF\xFE end"));
        } else {  // deepjson
            std::string nested(static_cast<std::size_t>(plan_.depth), '[');
            nested.append(static_cast<std::size_t>(plan_.depth), ']');
            chunk(
                "data: {\"object\":\"chat.completion.chunk\",\"choices\":[{\"index\":0,\"delta\":"
                "{\"content\":\"deep \",\"extra\":" +
                nested + "},\"finish_reason\":null}]}\n\n");
        }
        chunk(content_event("after"));
        return finish();
    }
    return std::nullopt;
}

}  // namespace chatd::fake
