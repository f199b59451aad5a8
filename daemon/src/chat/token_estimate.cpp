#include "chat/token_estimate.hpp"

namespace chatd::chat {

int estimate_tokens(std::string_view text) {
    long long ascii = 0, other = 0;
    for (unsigned char c : text) {
        if (c < 0x80) ++ascii;
        else if ((c & 0xC0) != 0x80) ++other;  // the lead byte of a multibyte character
    }
    return static_cast<int>((ascii + 3) / 4 + other);
}

int estimate_prompt_tokens(const std::vector<upstream::chat_message>& messages) {
    constexpr int per_message = 4;  // role and separators, as chat templates add them
    int total = 3;                  // the reply's priming
    for (const auto& m : messages) total += per_message + estimate_tokens(m.content);
    return total;
}

}  // namespace chatd::chat
