#pragma once
// Incremental parser for server-sent events as OpenAI-compatible upstreams send them.
// Feed it bytes in any split; it yields complete events. Correct at every split point.
#include <functional>
#include <string>
#include <string_view>

namespace chatd::upstream {

struct sse_event {
    std::string event;  // "" when no event: field
    std::string data;   // data: lines joined with '\n'
    std::string id;
};

class sse_parser {
public:
    // Calls on_event for every complete event (a blank line dispatches; events with no data
    // lines are ignored, per the WHATWG rules). Accepts CRLF, LF and CR line endings, a UTF-8
    // BOM at the very start, comment lines (":...") and "field" lines without a colon.
    // Returns false (and stops) if a single line, or the data of one event, exceeds max_line
    // bytes: what a hostile upstream sends without a line end or a blank line is never kept whole.
    bool feed(std::string_view bytes, const std::function<void(const sse_event&)>& on_event);
    void set_max_line(std::size_t n) { max_line_ = n; }

private:
    bool line(std::string_view l, const std::function<void(const sse_event&)>& on_event);
    std::string buf_;
    sse_event cur_;
    bool have_data_ = false;
    bool pending_cr_ = false;
    bool bom_checked_ = false;
    std::size_t max_line_ = 1 << 20;
};

}  // namespace chatd::upstream
