// The official channels' cryptography against vectors made with Python's `cryptography`
// package (an independent implementation): RSA-SHA256 PKCS#1 v1.5 is deterministic, so the
// same key must give the same signature; AES-256-GCM must open what it sealed.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>

#include "pay/alipay.hpp"
#include "pay/signing.hpp"
#include "util/base64.hpp"

using namespace chatd;
using namespace chatd::pay;

namespace {

// A key made for these tests only.
constexpr const char* private_pem = R"(-----BEGIN PRIVATE KEY-----
MIIEvQIBADANBgkqhkiG9w0BAQEFAASCBKcwggSjAgEAAoIBAQCm8CB8Ze24NCD1
HUMvwQwXI3LPuh6iL+Q1MYHxPuwG0bk1VfnLp5HticT9hacWFvr9kGLgkogaxIW6
0VaKzfjl7wbesbOVzlCODN7QRnjZ91HxlmmRsMRr1MRJS4jFVOFExv+A3z4WXYB5
W73cdHbudLTBGMdLrW/8x6tEqca1N9YU++7NBPMVBTXPxnm5rExUI1CmNQwHqvmm
22R5Lv9+vRxbGPk8DLd+deALS7q0VWx00/rYix/0npwKeZjAwgH9F+3v4Yr5a42r
Oya2W5BiYTE0sFyuZB33b+pngAvPBpJM/qozFqz8RgdUtqu2WCqyIZx2EqwqabYA
rC105KuPAgMBAAECggEAQF5ayFytGtfO1XShEWrIdKuQe5Ryd2sr/W7HgfQXIlH/
rhcmqGZGmGcE9BRy5suZn+fqmFkn7dpVDkHlssPU8yQFbBzs+BiDayJ/T6O8uZ7p
k9PBhRG5yzJRNUnQxPYDnnd00YZC9HC9Nw4u2TB3I18Qy1v4jK+lfLyox2MHYZwz
/mZtNL/C0j2JTde4siXovSczmcqIwrjeUR1hu0jT48+49x50rlawPZmdgaXz2Ymf
I+oVD+zcEUITmNiZiphwcxkISaNV8EsYrWA1TLWyrwcHKBhNdMoicFBR02dZ6LEo
BhDpW8aYpnvj9JYnfhFiCqylOC3nfRNyRAbBDpzuwQKBgQDhzvL1e/19PW3V+hGA
TO6+I/ivyGNLlhiNFNecI9OEiZ80w/jeF1561w4GI1cI3d2pNG3paT3iziwlHNrI
eRg3/Udjquh4c7wgsBW1OANNh3QgBmMQcvTsc4jspXzZY5bT1Nm8OyOBbN6C5E7B
cGvcM3vHHKXfuR7YBgiHGrdB8QKBgQC9QiQBnJfyd/mlS+FHse0eo7ykoABJPAFS
wf8NmYKiHanSC08SztHzltVfNjrx/WUYZMuwM4gy7/aenEo9UEERljLFxQw0BIev
BxdlPxl6V9wBXaM1sM++6dlQQ6Gv1f/f8ttTl3dzefZqPI5zesaPFjb3HcjzJtfp
bpVqXYVFfwKBgF/VWtvAoZaTiZf0p5TSEcj0r0i7PRkJPKYzoEYOFmj7l2vneCmZ
tWlg9/y25utGbhqvu64CEle9tJKTqm7GpfatMa0lDcCBLeiZkrz0ZsJyqGAnFcgX
YccwSX5VxaTlVU/V2ArA9pKpR845YwtJ0R0FZJTena9Te7mm5duhBQGhAoGBAJZZ
F7+MBg2iD9mnqSTKjUO88ZyaWv/Swn5bDOJh5CwjgogRYdTgJlvrpEAKFdOt6ITz
dfjZR0an6PRh1nxU6AwvlNAV1LbyLlP2Pzi4YuYVK/qNx51cg/z3SyL/R1Anoijn
hiMm/cbnycDlsIi+rUR4clvn9n5rijSwG9SuzLPDAoGAO4lRKYQKI9uzAOrMmXoa
WdI3YZGSWSYPXwjont6G2sUytsJtJDQDFkqi8zsCAcmC7R2Hxh7Xz841DjLydfJg
QO7wX4yU3RyjjEv0D/VpURYgQ4fxQlRSqbF8asKpo/u0ITIUXpKc4cpFza9/3sAi
1PkXoLMOupqnxmcTEIK8d+4=
-----END PRIVATE KEY-----
)";
constexpr const char* public_pem = R"(-----BEGIN PUBLIC KEY-----
MIIBIjANBgkqhkiG9w0BAQEFAAOCAQ8AMIIBCgKCAQEApvAgfGXtuDQg9R1DL8EM
FyNyz7oeoi/kNTGB8T7sBtG5NVX5y6eR7YnE/YWnFhb6/ZBi4JKIGsSFutFWis34
5e8G3rGzlc5Qjgze0EZ42fdR8ZZpkbDEa9TESUuIxVThRMb/gN8+Fl2AeVu93HR2
7nS0wRjHS61v/MerRKnGtTfWFPvuzQTzFQU1z8Z5uaxMVCNQpjUMB6r5pttkeS7/
fr0cWxj5PAy3fnXgC0u6tFVsdNP62Isf9J6cCnmYwMIB/Rft7+GK+WuNqzsmtluQ
YmExNLBcrmQd92/qZ4ALzwaSTP6qMxas/EYHVLartlgqsiGcdhKsKmm2AKwtdOSr
jwIDAQAB
-----END PUBLIC KEY-----
)";
constexpr const char* message = "POST\n/v3/pay/transactions/native\n1733380000\nNONCE123\n{\"a\":1}\n";
constexpr const char* python_signature = "HRAPLE57NLToK6kYIUANppNscEtEKLxW2GgSuQulQmL1akXLICmCptsybxXdj+fVqHI5Kmk9D8h3TBB5KGjf9OVMpTXrLeTluTo9HPE3+IcZlv+IIR8jqv7neHPQXvkmz23a7zb0boww/x2u8SSmHuSoqRuQmShdAFiGaNKASJupTP3ZD8nX2CE5FhxjLWxHN7Z/rqTaPRLN4cu5W6i5LNorY/nmdbp+pUZ4OgGOasn9WgO/p3/X2FTlMXpod6nqA4p6T6Esbmq5JO2eDxOevVkNPs1JisDoh3OrJFEuoGVOTis4p//ct8YFKLfdcOBKuj4kVKjWSFbdGl8dLyZqdQ==";

std::string write_temp(const std::string& name, const std::string& text) {
    auto path = (std::filesystem::temp_directory_path() / name).string();
    std::ofstream(path) << text;
    return path;
}

}  // namespace

TEST_CASE("RSA-SHA256 signatures match an independent implementation both ways") {
    auto priv = rsa_key::private_key_file(write_temp("chatd-test-merchant.pem", private_pem));
    auto pub = rsa_key::public_key_file(write_temp("chatd-test-platform.pem", public_pem));
    CHECK(base64_encode(priv.sign(message)) == python_signature);
    auto sig = *base64_decode(python_signature);
    CHECK(pub.verify(message, sig));
    CHECK_FALSE(pub.verify(std::string(message) + " ", sig));
    sig[10] ^= 1;
    CHECK_FALSE(pub.verify(message, sig));
    // Alipay shows public keys as one bare line of base64.
    std::string bare = public_pem;
    auto b = bare.find('\n') + 1;
    auto e = bare.find("-----END");
    bare = bare.substr(b, e - b);
    std::erase(bare, '\n');
    CHECK(rsa_key::public_key(bare).verify(message, *base64_decode(python_signature)));
    CHECK_THROWS_AS(rsa_key::private_key_file(write_temp("chatd-test-bad.pem", "not a key")), key_error);
    CHECK_THROWS_AS(rsa_key::public_key_file("/nonexistent/key.pem"), key_error);
}

TEST_CASE("AES-256-GCM opens a WeChat Pay resource sealed elsewhere and refuses a forged one") {
    std::string key = "0123456789abcdef0123456789abcdef";
    auto sealed = *base64_decode("wm33US4bKFQwG6Ysdk2sU7goajvcpE7TDE8bRLNczmIXa2eC6BMK6NnYkEbuUaBOaJvKke2/3TenMGr6DzDVoKHbBojv56QSkDVVHWR39bA=");
    auto plain = aes256gcm_open(key, "5K8264ILTKCH", "transaction", sealed);
    REQUIRE(plain);
    CHECK(*plain == R"({"mchid":"1900000001","out_trade_no":"X","amount":{"total":990}})");
    CHECK_FALSE(aes256gcm_open(key, "5K8264ILTKCH", "other", sealed));
    CHECK_FALSE(aes256gcm_open(key, "5K8264ILTKCX", "transaction", sealed));
    auto forged = sealed;
    forged[3] ^= 1;
    CHECK_FALSE(aes256gcm_open(key, "5K8264ILTKCH", "transaction", forged));
    CHECK_FALSE(aes256gcm_open("short", "5K8264ILTKCH", "transaction", sealed));
}

TEST_CASE("Alipay's signed part is the response object's exact text") {
    std::string body =
        R"({"alipay_trade_precreate_response":{"code":"10000","msg":"Success","qr_code":"https:\/\/qr.alipay.com\/x","note":"a } and a \" inside"},"sign":"abc"})";
    CHECK(alipay_signed_part(body, "alipay_trade_precreate_response") ==
          R"({"code":"10000","msg":"Success","qr_code":"https:\/\/qr.alipay.com\/x","note":"a } and a \" inside"})");
    CHECK(alipay_signed_part(body, "alipay_trade_query_response").empty());
    CHECK(alipay_signed_part(R"({"alipay_trade_query_response":{"code":"1")", "alipay_trade_query_response").empty());
}
