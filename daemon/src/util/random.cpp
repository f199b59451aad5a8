#include "util/random.hpp"

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/rand.h>

#include <stdexcept>

namespace chatd {

std::string random_bytes(std::size_t n) {
    std::string out(n, '\0');
    if (n && RAND_bytes(reinterpret_cast<unsigned char*>(out.data()), static_cast<int>(n)) != 1)
        throw std::runtime_error("RAND_bytes failed");
    return out;
}

std::string random_hex(std::size_t bytes) {
    static constexpr char digits[] = "0123456789abcdef";
    std::string raw = random_bytes(bytes), out;
    out.reserve(bytes * 2);
    for (unsigned char c : raw) {
        out += digits[c >> 4];
        out += digits[c & 15];
    }
    return out;
}

std::string random_token(std::size_t bytes) {
    static constexpr char alphabet[] =
        "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    std::string raw = random_bytes(bytes), out;
    unsigned acc = 0;
    int bits = 0;
    for (unsigned char c : raw) {
        acc = (acc << 8) | c;
        bits += 8;
        while (bits >= 6) {
            bits -= 6;
            out += alphabet[(acc >> bits) & 63];
        }
    }
    if (bits > 0) out += alphabet[(acc << (6 - bits)) & 63];
    return out;
}

std::string random_base32(std::size_t chars) {
    static constexpr char alphabet[] = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
    // 256 is a multiple of 32, so taking the low 5 bits of each byte is unbiased.
    std::string raw = random_bytes(chars), out;
    out.reserve(chars);
    for (unsigned char c : raw) out += alphabet[c & 31];
    return out;
}

std::string random_digits(std::size_t n) {
    // Bytes from 250 up are dropped so that each digit is equally likely (250 = 25 * 10).
    std::string out;
    out.reserve(n);
    while (out.size() < n)
        for (unsigned char c : random_bytes(n - out.size()))
            if (c < 250) out += static_cast<char>('0' + c % 10);
    return out;
}

namespace {

std::string digest_hex(std::string_view data, const EVP_MD* algorithm) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned int len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, algorithm, nullptr);
    static constexpr char digits[] = "0123456789abcdef";
    std::string out;
    for (unsigned i = 0; i < len; ++i) {
        out += digits[md[i] >> 4];
        out += digits[md[i] & 15];
    }
    return out;
}

}  // namespace

std::string sha256_hex(std::string_view data) { return digest_hex(data, EVP_sha256()); }

std::string md5_hex(std::string_view data) { return digest_hex(data, EVP_md5()); }

bool constant_time_equal(std::string_view a, std::string_view b) {
    return a.size() == b.size() && CRYPTO_memcmp(a.data(), b.data(), a.size()) == 0;
}

}  // namespace chatd
