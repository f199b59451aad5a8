// The upstreams' server-sent events: the parser is correct at every split point, so the input
// fed whole and fed a byte at a time yields the same events and the same verdict, also with a
// line limit small enough to be reached.
#include <vector>

#include "fuzz_check.hpp"
#include "upstream/sse_parser.hpp"

using namespace chatd;

namespace {

struct run {
    std::vector<upstream::sse_event> events;
    bool ok = true;
};

bool same(const upstream::sse_event& a, const upstream::sse_event& b) {
    return a.event == b.event && a.data == b.data && a.id == b.id;
}

run parse(std::string_view bytes, std::size_t piece, std::size_t max_line) {
    upstream::sse_parser p;
    p.set_max_line(max_line);
    run r;
    auto keep = [&](const upstream::sse_event& e) {
        r.events.push_back(e);
    };
    for (std::size_t at = 0; at < bytes.size() && r.ok; at += piece) r.ok = p.feed(bytes.substr(at, piece), keep);
    return r;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto bytes = fuzz::as_text(data, size);
    for (std::size_t max_line : {std::size_t{1} << 20, std::size_t{16}}) {
        auto whole = parse(bytes, bytes.size() ? bytes.size() : 1, max_line);
        auto bytewise = parse(bytes, 1, max_line);
        FUZZ_CHECK(whole.ok == bytewise.ok);
        if (whole.ok) {
            FUZZ_CHECK(whole.events.size() == bytewise.events.size());
            for (std::size_t i = 0; i < whole.events.size(); ++i) FUZZ_CHECK(same(whole.events[i], bytewise.events[i]));
        }
        for (const auto& e : whole.events) FUZZ_CHECK(e.data.size() <= bytes.size());
    }
    return 0;
}
