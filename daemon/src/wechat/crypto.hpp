#pragma once
// WeChat Official Account message security: the SHA-1 signatures on every callback and the
// safe-mode (AES) envelope. Pure functions; no I/O.
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::wechat {

// hex(sha1(concat(sorted(parts)))): `signature` over {token, timestamp, nonce}, and
// `msg_signature` over {token, timestamp, nonce, Encrypt}.
std::string signature(std::vector<std::string_view> parts);

// The 32-byte AES key behind a 43-character EncodingAESKey; nullopt if it is not one.
std::optional<std::string> aes_key_of(std::string_view encoding_aes_key);

struct opened_message {
    std::string xml;    // the message inside
    std::string appid;  // the account it was sealed for
};

// AES-256-CBC, IV = key[0:16], plaintext random(16) ‖ be32(len) ‖ msg ‖ appid, PKCS#7 to 32
// bytes (not OpenSSL's 16), then base64. `random16` is for tests; empty = fresh random bytes.
std::string seal(std::string_view key, std::string_view appid, std::string_view msg,
                 std::string_view random16 = {});
// nullopt when the base64, the padding or the length prefix is wrong (forged or corrupt).
std::optional<opened_message> open(std::string_view key, std::string_view encrypted);

}  // namespace chatd::wechat
