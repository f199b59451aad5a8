// Payment notifications as each channel checks them. The first byte picks the channel and whether
// the target signs the request itself (with keys made at start-up), so the fuzzer reaches what
// lies behind the signature too. The rest is the request: "METHOD query", header lines, a blank
// line, the body. A WeChat Pay body whose resource carries "plaintext" gets it sealed with the
// APIv3 key. Correctly signed notifications must pass the signature check; what is accepted is for
// this merchant, and an accepted amount is what the notification said.
#include <boost/asio/io_context.hpp>
#include <boost/json.hpp>
#include <filesystem>
#include <fstream>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <unistd.h>

#include "fuzz_check.hpp"
#include "pay/alipay.hpp"
#include "pay/epay.hpp"
#include "pay/wechat_pay.hpp"
#include "util/base64.hpp"
#include "util/unix_time.hpp"

using namespace chatd;
namespace json = boost::json;

namespace {

constexpr const char* api_v3_key = "0123456789abcdef0123456789abcdef";

struct keys {
    std::string private_pem, public_pem;
};

keys make_keys() {
    EVP_PKEY* key = EVP_RSA_gen(1024);  // small: signing runs on every signed input
    FUZZ_CHECK(key);
    auto pem = [&](bool is_private) {
        BIO* bio = BIO_new(BIO_s_mem());
        FUZZ_CHECK(is_private ? PEM_write_bio_PrivateKey(bio, key, nullptr, nullptr, 0, nullptr, nullptr)
                              : PEM_write_bio_PUBKEY(bio, key));
        char* text = nullptr;
        auto n = BIO_get_mem_data(bio, &text);
        std::string out(text, static_cast<std::size_t>(n));
        BIO_free(bio);
        return out;
    };
    keys k{pem(true), pem(false)};
    EVP_PKEY_free(key);
    return k;
}

pay::rsa_key private_key(const std::string& pem) {
    auto path = std::filesystem::temp_directory_path() / ("chatd-fuzz-key-" + std::to_string(getpid()) + ".pem");
    std::ofstream(path) << pem;
    auto key = pay::rsa_key::private_key_file(path.string());
    std::filesystem::remove(path);
    return key;
}

std::string gcm_seal(std::string_view nonce, std::string_view aad, std::string_view plain) {
    EVP_CIPHER_CTX* ctx = EVP_CIPHER_CTX_new();
    int n = 0;
    std::string out(plain.size() + 16, '\0');
    auto* o = reinterpret_cast<unsigned char*>(out.data());
    FUZZ_CHECK(EVP_EncryptInit_ex(ctx, EVP_aes_256_gcm(), nullptr, nullptr, nullptr));
    FUZZ_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_SET_IVLEN, static_cast<int>(nonce.size()), nullptr));
    FUZZ_CHECK(EVP_EncryptInit_ex(ctx, nullptr, nullptr, reinterpret_cast<const unsigned char*>(api_v3_key),
                                  reinterpret_cast<const unsigned char*>(nonce.data())));
    FUZZ_CHECK(EVP_EncryptUpdate(ctx, nullptr, &n, reinterpret_cast<const unsigned char*>(aad.data()), static_cast<int>(aad.size())));
    FUZZ_CHECK(EVP_EncryptUpdate(ctx, o, &n, reinterpret_cast<const unsigned char*>(plain.data()), static_cast<int>(plain.size())));
    FUZZ_CHECK(EVP_EncryptFinal_ex(ctx, o + n, &n));
    FUZZ_CHECK(EVP_CIPHER_CTX_ctrl(ctx, EVP_CTRL_GCM_GET_TAG, 16, o + plain.size()));
    EVP_CIPHER_CTX_free(ctx);
    return out;
}

struct world {
    keys made = make_keys();
    pay::rsa_key signer = private_key(made.private_pem);
    boost::asio::io_context io;
    upstream::client http{io.get_executor(), {}};
    pay::epay epay{http, {"1001", "epay-secret-key", "https://pay.example.com/", {"alipay", "wxpay"}, ""}};
    pay::alipay alipay{http, {"2021000000000001", signer, pay::rsa_key::public_key(made.public_pem), ""}};
    pay::wechat_pay wechat{http, {"1900000001", "wx0000000000000001", api_v3_key, "MERCHANT-SERIAL", signer,
                                  pay::rsa_key::public_key(made.public_pem), "PUB_KEY_ID_0001", ""}};
};

net::request read_request(std::string_view text) {
    net::request r;
    auto first = fuzz::take_until(text, "\n");
    r.method = std::string(fuzz::take_until(first, " "));
    r.query = std::string(first);
    for (;;) {
        auto line = fuzz::take_until(text, "\n");
        if (line.empty()) break;
        auto name = fuzz::take_until(line, ":");
        if (!line.empty() && line.front() == ' ') line.remove_prefix(1);
        std::string lower;
        for (char c : name) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
        r.headers.emplace_back(lower, std::string(line));
    }
    r.body = std::string(text);
    return r;
}

// Replaces the form's signature by a right one; `alipay_sign` picks RSA2 over epay's MD5.
std::string signed_form(world& w, std::string_view encoded, bool alipay_sign) {
    pay::form fields;
    for (auto& f : pay::parse_form(encoded))
        if (f.first != "sign") fields.push_back(std::move(f));
    fields.emplace_back("sign", alipay_sign ? base64_encode(w.signer.sign(pay::sign_text(fields)))
                                            : pay::epay_signature(fields, "epay-secret-key"));
    return pay::encode_form(fields);
}

void sign_wechat(world& w, net::request& r) {
    boost::system::error_code ec;
    auto v = json::parse(r.body, ec);
    if (!ec && v.is_object())
        if (auto* res = v.get_object().if_contains("resource"); res && res->is_object())
            if (auto* plain = res->get_object().if_contains("plaintext"); plain && plain->is_string()) {
                auto& o = res->get_object();
                auto text = [&](const char* key) {  // if_contains: operator[] may grow the object
                    auto* v = o.if_contains(key);
                    return v && v->is_string() ? std::string(v->get_string()) : std::string();
                };
                auto nonce = text("nonce");
                // WeChat Pay's nonces are 12 characters; OpenSSL takes GCM nonces up to 128 bytes.
                if (!nonce.empty() && nonce.size() <= 64) {
                    auto sealed = base64_encode(gcm_seal(nonce, text("associated_data"), std::string(plain->get_string())));
                    o.erase("plaintext");
                    o["ciphertext"] = sealed;
                    r.body = json::serialize(v);
                }
            }
    auto ts = std::to_string(unix_now());
    std::erase_if(r.headers, [](const auto& h) { return h.first.starts_with("wechatpay-"); });
    r.headers.emplace_back("wechatpay-timestamp", ts);
    r.headers.emplace_back("wechatpay-nonce", "fuzz-nonce");
    r.headers.emplace_back("wechatpay-serial", "PUB_KEY_ID_0001");
    r.headers.emplace_back("wechatpay-signature", base64_encode(w.signer.sign(ts + "\nfuzz-nonce\n" + r.body + "\n")));
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static world w;
    if (size == 0) return 0;
    int channel = data[0] % 3;
    bool sign = (data[0] / 3) % 2 == 1;
    auto r = read_request(fuzz::as_text(data + 1, size - 1));

    if (channel == 0) {  // epay: the POST body when there is one, else the query
        bool from_body = r.method == "POST" && !r.body.empty();
        auto& source = from_body ? r.body : r.query;
        if (sign) source = signed_form(w, source, false);
        auto checked = w.epay.check(r);
        auto fields = pay::parse_form(source);
        if (sign) {
            bool expected = pay::field(fields, "pid") == "1001" && pay::parse_yuan(pay::field(fields, "money"));
            FUZZ_CHECK(checked.ok.has_value() == expected);
        }
        if (checked.ok) {
            FUZZ_CHECK(pay::field(fields, "pid") == "1001");
            FUZZ_CHECK(pay::parse_yuan(pay::field(fields, "money")) == checked.ok->amount_cents);
            FUZZ_CHECK(checked.ok->order_no == pay::field(fields, "out_trade_no"));
        } else {
            FUZZ_CHECK(!checked.refused.empty());
        }
    } else if (channel == 1) {  // Alipay: the POST body, else the query
        auto& source = r.method == "POST" ? r.body : r.query;
        if (sign) source = signed_form(w, source, true);
        auto checked = w.alipay.check(r);
        auto fields = pay::parse_form(source);
        if (sign) {
            bool expected = pay::field(fields, "app_id") == "2021000000000001" &&
                            pay::parse_yuan(pay::field(fields, "total_amount"));
            FUZZ_CHECK(checked.ok.has_value() == expected);
        }
        if (checked.ok) {
            FUZZ_CHECK(pay::field(fields, "app_id") == "2021000000000001");
            FUZZ_CHECK(pay::parse_yuan(pay::field(fields, "total_amount")) == checked.ok->amount_cents);
        } else {
            FUZZ_CHECK(!checked.refused.empty());
        }
    } else {  // WeChat Pay: signed headers over the body, the resource sealed with the APIv3 key
        if (sign) sign_wechat(w, r);
        auto checked = w.wechat.check(r);
        if (sign && r.method == "POST")
            FUZZ_CHECK(checked.refused != "bad signature" && checked.refused != "no signature" &&
                       checked.refused.find("timestamp") == std::string::npos &&
                       checked.refused.find("unknown key") == std::string::npos);
        if (!checked.ok) FUZZ_CHECK(!checked.refused.empty());
    }
    return 0;
}
