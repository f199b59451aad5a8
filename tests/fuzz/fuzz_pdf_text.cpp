// PDF text extraction's entry point with poppler behind it. Only app_error("unsupported_type")
// may escape; the text is valid UTF-8 of at most the limit's code points, with LF line ends, no
// control character but tab and newline, and no space at a line's end.
#include "files/pdf_text.hpp"
#include "fuzz_check.hpp"
#include "util/app_error.hpp"
#include "util/text.hpp"

using namespace chatd;

namespace {

std::size_t code_points(std::string_view s) {
    std::size_t n = 0;
    for (unsigned char c : s) n += (c & 0xC0) != 0x80;
    return n;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    constexpr std::size_t max_chars = 2000;
    try {
        auto text = files::pdf_text(fuzz::as_text(data, size), max_chars);
        FUZZ_CHECK(valid_utf8(text));
        FUZZ_CHECK(code_points(text) <= max_chars);
        for (std::size_t i = 0; i < text.size(); ++i) {
            auto c = static_cast<unsigned char>(text[i]);
            FUZZ_CHECK(c >= 0x20 || c == '\t' || c == '\n');
            FUZZ_CHECK(c != 0x7F);
            if (c == '\n' && i > 0) FUZZ_CHECK(text[i - 1] != ' ');
        }
        FUZZ_CHECK(text.empty() || text.back() != ' ');
    } catch (const app_error& e) {
        FUZZ_CHECK(e.reason == "unsupported_type");
    }
    return 0;
}
