#include "store/conversation_title.hpp"

#include "util/text.hpp"

namespace chatd::store {

std::string title_from(const std::string& content) {
    std::string t = trim(content);
    for (auto& ch : t)
        if (ch == '\n' || ch == '\r' || ch == '\t') ch = ' ';
    auto p = utf8_prefix(t, 90);
    std::string out(p);
    if (utf8_length(out) > 30) {
        std::size_t chars = 0, i = 0;
        for (; i < out.size(); ++i) {
            if ((static_cast<unsigned char>(out[i]) & 0xC0) != 0x80 && ++chars > 30) break;
        }
        out = out.substr(0, i) + "…";
    } else if (p.size() < t.size()) {
        out += "…";
    }
    return out;
}

}  // namespace chatd::store
