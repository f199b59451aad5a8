// A leading <think>…</think> split off streamed content whose chunks may cut the tags anywhere:
// the first byte picks the chunk size, and the reasoning and the answer must come out the same as
// when the content arrives in one chunk, with nothing invented.
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "upstream/think_splitter.hpp"
#include "util/text.hpp"

using namespace chatd;
using upstream::text_kind;

namespace {

struct split_text {
    std::string reasoning, answer;
    std::vector<text_kind> kinds;  // the order of the pieces, runs of one kind counted once
};

split_text split(std::string_view content, std::size_t piece) {
    upstream::think_splitter s;
    split_text out;
    upstream::delta_fn emit = [&](text_kind kind, std::string_view text) {
        (kind == text_kind::reasoning ? out.reasoning : out.answer).append(text);
        if (!text.empty() && (out.kinds.empty() || out.kinds.back() != kind)) out.kinds.push_back(kind);
    };
    for (std::size_t at = 0; at < content.size(); at += piece) s.feed(content.substr(at, piece), emit);
    s.finish(emit);
    return out;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    if (size == 0) return 0;
    auto piece = std::size_t{1} + data[0] % 16;
    auto content = fuzz::as_text(data + 1, size - 1);
    auto whole = split(content, content.size() ? content.size() : 1);
    auto pieces = split(content, piece);
    FUZZ_CHECK(whole.reasoning == pieces.reasoning);
    FUZZ_CHECK(whole.answer == pieces.answer);
    FUZZ_CHECK(whole.kinds == pieces.kinds);
    FUZZ_CHECK(whole.reasoning.size() + whole.answer.size() <= content.size());
    // Only the tags and blank bytes are ever dropped, so valid UTF-8 stays valid.
    if (valid_utf8(content)) FUZZ_CHECK(valid_utf8(whole.reasoning) && valid_utf8(whole.answer));
    // Content that does not open with <think> is the answer, untouched.
    if (content.find("<think>") == std::string_view::npos && content.find_first_not_of(" \n\r\t") != std::string_view::npos &&
        !std::string_view("<think>").starts_with(content.substr(content.find_first_not_of(" \n\r\t"))))
        FUZZ_CHECK(whole.answer == content && whole.reasoning.empty());
    return 0;
}
