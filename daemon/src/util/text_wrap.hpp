#pragma once
// Word wrapping for help text, shared by `chatd --help` and chatctl (which includes this header
// alone, none of the daemon's libraries). Everything but terminal_width is pure.
#include <sys/ioctl.h>
#include <unistd.h>

#include <algorithm>
#include <cstdlib>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd {

// Columns a terminal gives `text`: one per character, two for the wide East Asian ones, so
// Chinese labels line up with ASCII ones.
inline std::size_t display_width(std::string_view text) {
    std::size_t width = 0;
    for (std::size_t i = 0; i < text.size();) {
        const auto lead = static_cast<unsigned char>(text[i]);
        const std::size_t length = lead < 0x80 ? 1 : lead >= 0xF0 ? 4 : lead >= 0xE0 ? 3 : lead >= 0xC0 ? 2 : 1;
        std::uint32_t code = length == 1 ? lead : lead & (0x7F >> length);
        for (std::size_t k = 1; k < length && i + k < text.size(); ++k)
            code = (code << 6) | (static_cast<unsigned char>(text[i + k]) & 0x3F);
        const bool wide = (code >= 0x1100 && code <= 0x115F) || (code >= 0x2E80 && code <= 0xA4CF) ||
                          (code >= 0xAC00 && code <= 0xD7A3) || (code >= 0xF900 && code <= 0xFAFF) ||
                          (code >= 0xFE30 && code <= 0xFE4F) || (code >= 0xFF00 && code <= 0xFF60) ||
                          (code >= 0xFFE0 && code <= 0xFFE6) || (code >= 0x20000 && code <= 0x3FFFD);
        width += wide ? 2 : 1;
        i += length;
    }
    return width;
}

inline constexpr std::size_t narrowest_width = 40;
inline constexpr std::size_t default_width = 80;

// The width help is wrapped to: the terminal's when standard output is one, else $COLUMNS,
// else 80; never below 40, where a hanging indent would leave no room for words.
inline std::size_t choose_width(std::optional<std::size_t> terminal_columns, const char* columns_variable) {
    std::size_t width = default_width;
    if (terminal_columns && *terminal_columns > 0) {
        width = *terminal_columns;
    } else if (columns_variable && *columns_variable) {
        std::size_t parsed = 0;
        bool digits = true;
        for (const char* c = columns_variable; *c; ++c) {
            if (*c < '0' || *c > '9' || parsed > 100000) {
                digits = false;
                break;
            }
            parsed = parsed * 10 + static_cast<std::size_t>(*c - '0');
        }
        if (digits && parsed > 0) width = parsed;
    }
    return std::max(width, narrowest_width);
}

// choose_width for this process: its standard output and environment.
inline std::size_t terminal_width() {
    std::optional<std::size_t> columns;
    winsize size{};
    if (isatty(STDOUT_FILENO) && ioctl(STDOUT_FILENO, TIOCGWINSZ, &size) == 0 && size.ws_col > 0)
        columns = size.ws_col;
    return choose_width(columns, std::getenv("COLUMNS"));
}

// `text` filled into lines of at most `width` columns, breaking only between words: the first
// line starts with `first_prefix`, the others with `indent` spaces. Line breaks inside `text`
// are spaces, except that an empty line starts a new paragraph. A word longer than a whole
// line stands alone on its line rather than being cut. Every line ends with '\n'.
inline std::string wrap(std::string_view text, std::size_t width, std::string_view first_prefix = {},
                        std::size_t indent = 0) {
    std::string out;
    std::string line(first_prefix);
    std::size_t line_width = display_width(first_prefix);
    bool line_has_word = false;
    const std::string continuation(indent, ' ');

    auto finish_line = [&] {
        line.erase(line.find_last_not_of(' ') + 1);
        out += line;
        out += '\n';
        line = continuation;
        line_width = indent;
        line_has_word = false;
    };

    std::size_t i = 0;
    while (i < text.size()) {
        if (text[i] == ' ' || text[i] == '\t' || text[i] == '\r') {
            ++i;
            continue;
        }
        if (text[i] == '\n') {
            // A blank line (two breaks with only spaces between) ends the paragraph.
            std::size_t next = i + 1;
            while (next < text.size() && (text[next] == ' ' || text[next] == '\t' || text[next] == '\r')) ++next;
            if (next < text.size() && text[next] == '\n') {
                if (line_has_word) finish_line();
                out += '\n';
                while (next < text.size() && text[next] == '\n') ++next;
            }
            i = next;
            continue;
        }
        std::size_t end = i;
        while (end < text.size() && text[end] != ' ' && text[end] != '\t' && text[end] != '\n' &&
               text[end] != '\r')
            ++end;
        const std::string_view word = text.substr(i, end - i);
        const std::size_t word_width = display_width(word);
        if (line_has_word && line_width + 1 + word_width > width) finish_line();
        if (line_has_word) {
            line += ' ';
            ++line_width;
        }
        line += word;
        line_width += word_width;
        line_has_word = true;
        i = end;
    }
    if (line_has_word || out.empty()) finish_line();
    return out;
}

// The width of the widest line of `text`.
inline std::size_t widest_line(std::string_view text) {
    std::size_t widest = 0;
    while (!text.empty()) {
        const auto end = text.find('\n');
        widest = std::max(widest, display_width(text.substr(0, end)));
        text = end == std::string_view::npos ? std::string_view{} : text.substr(end + 1);
    }
    return widest;
}

// A two-column entry (an option and what it does): the description starts at column
// `column` and its continuation lines hang there. A term too wide for the column puts the
// description on the next line; so does a narrow terminal, where the description then starts
// at `fallback_column` to leave its longest word room.
inline std::string wrap_entry(std::string_view term, std::string_view description, std::size_t width,
                              std::size_t column, std::size_t fallback_column = 4) {
    const std::string one_line = wrap(description, std::string::npos);
    const std::size_t longest_word = [&] {
        std::size_t longest = 0, start = 0;
        for (std::size_t i = 0; i <= one_line.size(); ++i)
            if (i == one_line.size() || one_line[i] == ' ' || one_line[i] == '\n') {
                longest = std::max(longest, display_width(std::string_view(one_line).substr(start, i - start)));
                start = i + 1;
            }
        return longest;
    }();
    if (column + longest_word > width) column = fallback_column;
    std::string prefix(term);
    const std::size_t term_width = display_width(term);
    if (term_width + 1 > column) return prefix + "\n" + wrap(description, width, std::string(column, ' '), column);
    prefix.append(column - term_width, ' ');
    return wrap(description, width, prefix, column);
}

}  // namespace chatd
