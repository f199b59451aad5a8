#include "wechat/crypto.hpp"

#include <algorithm>
#include <memory>
#include <openssl/evp.h>

#include "util/base64.hpp"
#include "util/random.hpp"

namespace chatd::wechat {

namespace {

constexpr std::size_t block = 32;  // WeChat pads to 32 bytes, not AES's 16

std::string hex(const unsigned char* p, unsigned n) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    out.reserve(n * 2);
    for (unsigned i = 0; i < n; ++i) {
        out += digits[p[i] >> 4];
        out += digits[p[i] & 15];
    }
    return out;
}

using cipher_ctx = std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)>;

// Raw CBC over whole blocks, padding off: the 32-byte PKCS#7 is done by the callers.
std::optional<std::string> aes_cbc(std::string_view key, std::string_view in, bool encrypt) {
    if (key.size() != 32 || in.empty() || in.size() % 16 != 0) return std::nullopt;
    cipher_ctx ctx(EVP_CIPHER_CTX_new(), &EVP_CIPHER_CTX_free);
    auto k = reinterpret_cast<const unsigned char*>(key.data());
    if (!ctx || EVP_CipherInit_ex(ctx.get(), EVP_aes_256_cbc(), nullptr, k, k, encrypt ? 1 : 0) != 1)
        return std::nullopt;
    EVP_CIPHER_CTX_set_padding(ctx.get(), 0);
    std::string out(in.size() + 16, '\0');
    int n = 0, tail = 0;
    auto o = reinterpret_cast<unsigned char*>(out.data());
    if (EVP_CipherUpdate(ctx.get(), o, &n, reinterpret_cast<const unsigned char*>(in.data()),
                         static_cast<int>(in.size())) != 1 ||
        EVP_CipherFinal_ex(ctx.get(), o + n, &tail) != 1)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(n + tail));
    return out;
}

}  // namespace

std::string signature(std::vector<std::string_view> parts) {
    std::sort(parts.begin(), parts.end());
    EVP_MD_CTX* ctx = EVP_MD_CTX_new();
    EVP_DigestInit_ex(ctx, EVP_sha1(), nullptr);
    for (auto p : parts) EVP_DigestUpdate(ctx, p.data(), p.size());
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_DigestFinal_ex(ctx, md, &len);
    EVP_MD_CTX_free(ctx);
    return hex(md, len);
}

std::optional<std::string> aes_key_of(std::string_view encoding_aes_key) {
    if (encoding_aes_key.size() != 43) return std::nullopt;
    auto key = base64_decode(std::string(encoding_aes_key) + "=");
    if (!key || key->size() != 32) return std::nullopt;
    return key;
}

std::string seal(std::string_view key, std::string_view appid, std::string_view msg, std::string_view random16) {
    std::string plain = random16.size() == 16 ? std::string(random16) : random_bytes(16);
    auto len = static_cast<std::uint32_t>(msg.size());
    for (int shift = 24; shift >= 0; shift -= 8) plain += static_cast<char>((len >> shift) & 0xff);
    plain.append(msg);
    plain.append(appid);
    std::size_t pad = block - plain.size() % block;  // 1..32: a full block when already aligned
    plain.append(pad, static_cast<char>(pad));
    return base64_encode(*aes_cbc(key, plain, true));
}

std::optional<opened_message> open(std::string_view key, std::string_view encrypted) {
    auto raw = base64_decode(encrypted);
    if (!raw) return std::nullopt;
    auto plain = aes_cbc(key, *raw, false);
    if (!plain || plain->size() % block != 0) return std::nullopt;
    auto pad = static_cast<unsigned char>(plain->back());
    if (pad < 1 || pad > block || pad > plain->size()) return std::nullopt;
    for (std::size_t i = plain->size() - pad; i < plain->size(); ++i)
        if (static_cast<unsigned char>((*plain)[i]) != pad) return std::nullopt;
    plain->resize(plain->size() - pad);
    if (plain->size() < 20) return std::nullopt;
    std::uint32_t len = 0;
    for (int i = 16; i < 20; ++i) len = (len << 8) | static_cast<unsigned char>((*plain)[static_cast<std::size_t>(i)]);
    if (len > plain->size() - 20) return std::nullopt;
    opened_message m;
    m.xml = plain->substr(20, len);
    m.appid = plain->substr(20 + len);
    return m;
}

}  // namespace chatd::wechat
