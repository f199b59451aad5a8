// The safe-mode envelope: open() on hostile base64 returns nullopt rather than misbehaving; what
// opens seals again to an envelope that opens the same; any message sealed opens back to itself;
// signatures are 40 hex digits; and only 43-character keys give a 32-byte AES key.
#include <string>
#include <vector>

#include "fuzz_check.hpp"
#include "wechat/crypto.hpp"

using namespace chatd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const std::string key = *wechat::aes_key_of("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    auto text = fuzz::as_text(data, size);

    if (auto opened = wechat::open(key, text)) {
        auto resealed = wechat::seal(key, opened->appid, opened->xml, "0123456789abcdef");
        auto again = wechat::open(key, resealed);
        FUZZ_CHECK(again && again->xml == opened->xml && again->appid == opened->appid);
    }
    auto sealed = wechat::seal(key, "wx1234567890abcdef", text);
    auto back = wechat::open(key, sealed);
    FUZZ_CHECK(back && back->xml == text && back->appid == "wx1234567890abcdef");

    if (auto k = wechat::aes_key_of(text)) FUZZ_CHECK(k->size() == 32 && text.size() == 43);

    std::vector<std::string_view> parts;
    for (auto rest = text; !rest.empty();) parts.push_back(fuzz::take_until(rest, "\n"));
    auto sig = wechat::signature(parts);
    FUZZ_CHECK(sig.size() == 40 && sig.find_first_not_of("0123456789abcdef") == std::string::npos);
    return 0;
}
