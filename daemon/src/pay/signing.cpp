#include "pay/signing.hpp"

#include <openssl/evp.h>
#include <openssl/pem.h>

#include <cctype>
#include <fstream>
#include <sstream>

namespace chatd::pay {

namespace {

std::string read_file(const std::string& path) {
    std::ifstream in(path, std::ios::binary);
    if (!in) throw key_error("cannot read the key file " + path);
    std::ostringstream s;
    s << in.rdbuf();
    return s.str();
}

EVP_PKEY* read_pem(std::string_view pem, bool is_private) {
    std::unique_ptr<BIO, decltype(&BIO_free)> bio(BIO_new_mem_buf(pem.data(), static_cast<int>(pem.size())),
                                                  BIO_free);
    if (!bio) return nullptr;
    return is_private ? PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, nullptr)
                      : PEM_read_bio_PUBKEY(bio.get(), nullptr, nullptr, nullptr);
}

// Alipay's console shows a public key as one line of base64, without the PEM lines.
std::string as_public_pem(std::string_view text) {
    if (text.find("-----BEGIN") != std::string_view::npos) return std::string(text);
    std::string pem = "-----BEGIN PUBLIC KEY-----\n";
    std::string body;
    for (char c : text)
        if (!std::isspace(static_cast<unsigned char>(c))) body += c;
    for (std::size_t i = 0; i < body.size(); i += 64) pem += body.substr(i, 64) + "\n";
    return pem + "-----END PUBLIC KEY-----\n";
}

}  // namespace

rsa_key::rsa_key(EVP_PKEY* key) : key_(key, EVP_PKEY_free) {}

rsa_key rsa_key::private_key_file(const std::string& path) {
    auto* key = read_pem(read_file(path), true);
    if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        throw key_error(path + " holds no RSA private key (PEM)");
    }
    return rsa_key(key);
}

rsa_key rsa_key::public_key_file(const std::string& path) {
    try {
        return public_key(read_file(path));
    } catch (const key_error&) {
        throw key_error(path + " holds no RSA public key (PEM)");
    }
}

rsa_key rsa_key::public_key(std::string_view pem_or_base64) {
    auto* key = read_pem(as_public_pem(pem_or_base64), false);
    if (!key || EVP_PKEY_base_id(key) != EVP_PKEY_RSA) {
        EVP_PKEY_free(key);
        throw key_error("no RSA public key");
    }
    return rsa_key(key);
}

std::string rsa_key::sign(std::string_view message) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    std::size_t len = 0;
    if (!ctx || EVP_DigestSignInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) != 1 ||
        EVP_DigestSign(ctx.get(), nullptr, &len, reinterpret_cast<const unsigned char*>(message.data()),
                       message.size()) != 1)
        throw key_error("signing failed");
    std::string out(len, '\0');
    if (EVP_DigestSign(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len,
                       reinterpret_cast<const unsigned char*>(message.data()), message.size()) != 1)
        throw key_error("signing failed");
    out.resize(len);
    return out;
}

bool rsa_key::verify(std::string_view message, std::string_view signature) const {
    std::unique_ptr<EVP_MD_CTX, decltype(&EVP_MD_CTX_free)> ctx(EVP_MD_CTX_new(), EVP_MD_CTX_free);
    return ctx && EVP_DigestVerifyInit(ctx.get(), nullptr, EVP_sha256(), nullptr, key_.get()) == 1 &&
           EVP_DigestVerify(ctx.get(), reinterpret_cast<const unsigned char*>(signature.data()), signature.size(),
                            reinterpret_cast<const unsigned char*>(message.data()), message.size()) == 1;
}

std::optional<std::string> aes256gcm_open(std::string_view key, std::string_view nonce, std::string_view aad,
                                          std::string_view sealed) {
    constexpr std::size_t tag_len = 16;
    if (key.size() != 32 || sealed.size() < tag_len || nonce.empty()) return std::nullopt;
    std::unique_ptr<EVP_CIPHER_CTX, decltype(&EVP_CIPHER_CTX_free)> ctx(EVP_CIPHER_CTX_new(), EVP_CIPHER_CTX_free);
    auto bytes = [](std::string_view s) { return reinterpret_cast<const unsigned char*>(s.data()); };
    auto ciphertext = sealed.substr(0, sealed.size() - tag_len);
    std::string tag(sealed.substr(ciphertext.size()));
    std::string out(ciphertext.size(), '\0');
    int len = 0, final_len = 0;
    if (!ctx || EVP_DecryptInit_ex(ctx.get(), EVP_aes_256_gcm(), nullptr, nullptr, nullptr) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr) != 1 ||
        EVP_DecryptInit_ex(ctx.get(), nullptr, nullptr, bytes(key), bytes(nonce)) != 1 ||
        EVP_DecryptUpdate(ctx.get(), nullptr, &len, bytes(aad), static_cast<int>(aad.size())) != 1 ||
        EVP_DecryptUpdate(ctx.get(), reinterpret_cast<unsigned char*>(out.data()), &len, bytes(ciphertext),
                          static_cast<int>(ciphertext.size())) != 1 ||
        EVP_CIPHER_CTX_ctrl(ctx.get(), EVP_CTRL_GCM_SET_TAG, tag_len, tag.data()) != 1 ||
        EVP_DecryptFinal_ex(ctx.get(), reinterpret_cast<unsigned char*>(out.data()) + len, &final_len) != 1)
        return std::nullopt;
    out.resize(static_cast<std::size_t>(len + final_len));
    return out;
}

}  // namespace chatd::pay
