#pragma once
// The cryptography the official payment channels speak, over OpenSSL: SHA256withRSA (PKCS#1
// v1.5) signatures made with the merchant's key and checked with the channel's, and WeChat
// Pay's AEAD_AES_256_GCM notification resources.
#include <memory>
#include <optional>
#include <stdexcept>
#include <string>
#include <string_view>

typedef struct evp_pkey_st EVP_PKEY;

namespace chatd::pay {

struct key_error : std::runtime_error {
    using std::runtime_error::runtime_error;
};

class rsa_key {
public:
    // PEM files or text: a private key (PKCS#8 or PKCS#1) or a public key (SubjectPublicKeyInfo;
    // Alipay hands out the bare base64 of one, which is accepted too). key_error otherwise.
    static rsa_key private_key_file(const std::string& path);
    static rsa_key public_key_file(const std::string& path);
    static rsa_key public_key(std::string_view pem_or_base64);

    // The raw signature of SHA-256(message); a private key only.
    std::string sign(std::string_view message) const;
    bool verify(std::string_view message, std::string_view signature) const;

private:
    explicit rsa_key(EVP_PKEY* key);
    std::shared_ptr<EVP_PKEY> key_;
};

// AES-256-GCM: `sealed` is the ciphertext followed by its 16-byte tag. nullopt when the tag
// does not match (a forged or damaged resource) or the key is not 32 bytes.
std::optional<std::string> aes256gcm_open(std::string_view key, std::string_view nonce, std::string_view aad,
                                          std::string_view sealed);

}  // namespace chatd::pay
