#include "files/pdf_text.hpp"

#include <poppler-document.h>
#include <poppler-global.h>
#include <poppler-page.h>

#include <climits>
#include <memory>
#include <mutex>

#include "util/app_error.hpp"
#include "util/text.hpp"

namespace chatd::files {

namespace {

// Poppler reports every oddity of a damaged or hostile file on stderr, a line each: thousands
// of lines for one upload. Its findings do not change what we do, so they are dropped.
void drop_poppler_message(const std::string&, void*) {}

void silence_poppler() {
    static std::once_flag once;
    std::call_once(once, [] { poppler::set_debug_error_function(drop_poppler_message, nullptr); });
}

// The length of the valid UTF-8 sequence at the start of `s`; 0 when none starts there.
std::size_t utf8_sequence_length(std::string_view s) {
    for (std::size_t len = 1; len <= 4 && len <= s.size(); ++len)
        if (valid_utf8(s.substr(0, len))) return len;
    return 0;
}

// One page's text as the header promises: valid UTF-8, LF line ends, no control character but
// tab and newline, no blanks at line ends, no blank lines at either end.
std::string clean_page_text(std::string_view raw) {
    std::string out;
    out.reserve(raw.size());
    auto end_line = [&out] {
        while (!out.empty() && (out.back() == ' ' || out.back() == '\t')) out.pop_back();
        out.push_back('\n');
    };
    for (std::size_t i = 0; i < raw.size();) {
        char c = raw[i];
        if (c == '\r' || c == '\n' || c == '\f' || c == '\v') {
            if (c == '\r' && i + 1 < raw.size() && raw[i + 1] == '\n') ++i;
            end_line();
            ++i;
            continue;
        }
        auto len = utf8_sequence_length(raw.substr(i));
        if (len == 0) {
            out += "\xEF\xBF\xBD";  // U+FFFD, the replacement character
            ++i;
            continue;
        }
        auto byte = static_cast<unsigned char>(c);
        if (len > 1 || byte == '\t' || (byte >= 0x20 && byte != 0x7F))
            out.append(raw.substr(i, len));
        i += len;
    }
    end_line();
    while (!out.empty() && out.back() == '\n') out.pop_back();
    auto first = out.find_first_not_of('\n');
    return first == std::string::npos ? std::string() : out.substr(first);
}

// The byte offset where character (code point) `n` of `s` starts; s.size() when it has fewer.
std::size_t offset_of_char(std::string_view s, std::size_t n) {
    for (std::size_t i = 0; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && n-- == 0) return i;
    return s.size();
}

[[noreturn]] void unreadable(const std::string& why) {
    throw app_error("unsupported_type", why);
}

}  // namespace

std::string pdf_text(std::string_view bytes, std::size_t max_chars) {
    silence_poppler();
    if (bytes.size() > static_cast<std::size_t>(INT_MAX))
        unreadable("this PDF is too large to read");
    // load_from_raw_data reads `bytes` in place: they outlive the document.
    std::unique_ptr<poppler::document> doc(
        poppler::document::load_from_raw_data(bytes.data(), static_cast<int>(bytes.size())));
    if (!doc) unreadable("无法读取这个 PDF (this PDF cannot be read)");
    // Encrypted with an empty user password (only printing or copying restricted) opens; a PDF
    // that needs a password to open stays locked.
    if (doc->is_locked()) unreadable("这个 PDF 有密码保护 (this PDF is protected by a password)");

    std::string text;
    std::size_t chars = 0;
    for (int i = 0, pages = doc->pages(); i < pages && chars < max_chars; ++i) {
        std::unique_ptr<poppler::page> page(doc->create_page(i));
        if (!page) continue;
        auto utf8 =
            page->text(poppler::rectf(), poppler::page::non_raw_non_physical_layout).to_utf8();
        auto clean = clean_page_text(std::string_view(utf8.data(), utf8.size()));
        if (clean.empty()) continue;
        if (!text.empty()) {
            text += "\n\n";
            chars += 2;
        }
        text += clean;
        chars += utf8_length(clean);
    }
    if (chars > max_chars) {
        text.resize(offset_of_char(text, max_chars));
        while (!text.empty() && (text.back() == '\n' || text.back() == ' ' || text.back() == '\t'))
            text.pop_back();
    }
    return text;
}

}  // namespace chatd::files
