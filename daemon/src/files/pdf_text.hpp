#pragma once
// The text of a PDF, read by poppler (never by hand: PDF is too large a format to parse safely
// here). CPU-bound and unbounded in time for a hostile file: call it off the I/O threads.
#include <cstddef>
#include <string>
#include <string_view>

namespace chatd::files {

// The text of the PDF in `bytes`, in reading order, its pages separated by a blank line: valid
// UTF-8 (anything else replaced by U+FFFD), LF line ends, no NUL or other control character but
// tab and newline, no spaces at line ends; at most `max_chars` characters (code points), reading
// no page past them. An encrypted PDF that opens without a password is read; one that needs a
// password, or that poppler cannot read, throws app_error("unsupported_type").
std::string pdf_text(std::string_view bytes, std::size_t max_chars);

}  // namespace chatd::files
