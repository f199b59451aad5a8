#include "upstream/sse_parser.hpp"

namespace chatd::upstream {
namespace {

constexpr std::string_view utf8_bom = "\xEF\xBB\xBF";

}  // namespace

bool sse_parser::feed(std::string_view bytes,
                      const std::function<void(const sse_event&)>& on_event) {
    // The BOM may itself arrive split, so hold the first bytes back until they either
    // complete it or prove it absent; whatever was held back is then parsed as ordinary input.
    std::string held;
    if (!bom_checked_) {
        while (!bytes.empty() && buf_.size() < utf8_bom.size() &&
               bytes.front() == utf8_bom[buf_.size()]) {
            buf_ += bytes.front();
            bytes.remove_prefix(1);
        }
        if (buf_.size() == utf8_bom.size()) {
            buf_.clear();
            bom_checked_ = true;
        } else if (!bytes.empty()) {
            held = std::move(buf_);
            buf_.clear();
            bom_checked_ = true;
        } else {
            return true;
        }
    }

    auto consume = [&](std::string_view s) {
        std::size_t pos = 0;
        if (pending_cr_ && !s.empty()) {
            pending_cr_ = false;
            if (s.front() == '\n') pos = 1;
        }
        while (pos < s.size()) {
            auto eol = s.find_first_of("\r\n", pos);
            if (eol == std::string_view::npos) {
                if (buf_.size() + (s.size() - pos) > max_line_) return false;
                buf_.append(s.substr(pos));
                return true;
            }
            auto piece = s.substr(pos, eol - pos);
            if (buf_.size() + piece.size() > max_line_) return false;
            if (buf_.empty()) {
                if (!line(piece, on_event)) return false;
            } else {
                buf_.append(piece);
                std::string whole = std::move(buf_);
                buf_.clear();
                if (!line(whole, on_event)) return false;
            }
            if (s[eol] == '\r') {
                if (eol + 1 == s.size()) {
                    pending_cr_ = true;
                } else if (s[eol + 1] == '\n') {
                    ++eol;
                }
            }
            pos = eol + 1;
        }
        return true;
    };
    return consume(held) && consume(bytes);
}

bool sse_parser::line(std::string_view l, const std::function<void(const sse_event&)>& on_event) {
    if (l.empty()) {
        if (have_data_) on_event(cur_);
        // The id is the stream's "last event id" and survives dispatch; the rest does not.
        cur_.event.clear();
        cur_.data.clear();
        have_data_ = false;
        return true;
    }
    if (l.front() == ':') return true;

    std::string_view field = l;
    std::string_view value;
    if (auto colon = l.find(':'); colon != std::string_view::npos) {
        field = l.substr(0, colon);
        value = l.substr(colon + 1);
        if (!value.empty() && value.front() == ' ') value.remove_prefix(1);
    }

    if (field == "data") {
        if (cur_.data.size() + 1 + value.size() > max_line_) return false;
        if (have_data_) cur_.data += '\n';
        cur_.data.append(value);
        have_data_ = true;
    } else if (field == "event") {
        cur_.event.assign(value);
    } else if (field == "id") {
        if (value.find('\0') == std::string_view::npos) cur_.id.assign(value);
    }
    return true;
}

}  // namespace chatd::upstream
