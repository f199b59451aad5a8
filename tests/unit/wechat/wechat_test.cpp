// WeChat callback security (signatures, the AES envelope) and the push XML.
#include <catch2/catch.hpp>

#include "util/base64.hpp"
#include "wechat/crypto.hpp"
#include "wechat/xml.hpp"

using namespace chatd::wechat;
using chatd::base64_decode;
using chatd::base64_encode;

TEST_CASE("wechat signatures match the official vectors") {
    CHECK(signature({"AAAAA", "1714036504", "1514711492"}) == "f464b24fc39322e44b38aa78f5edd27bd1441696");
    CHECK(signature({"AAAAA", "1714037059", "486452656"}) == "899cf89e464efb63f54ddac96b0a0a235f53aa78");
    // The order the parts are given in does not matter: they are sorted.
    CHECK(signature({"1514711492", "AAAAA", "1714036504"}) == "f464b24fc39322e44b38aa78f5edd27bd1441696");
}

TEST_CASE("EncodingAESKey gives a 32-byte key") {
    auto key = aes_key_of("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    REQUIRE(key);
    CHECK(key->size() == 32);
    CHECK_FALSE(aes_key_of("too short"));
    CHECK_FALSE(aes_key_of("abcdefghijklmnopqrstuvwxyz0123456789ABCDEF*"));
}

TEST_CASE("seal matches an independent implementation of WeChat's envelope") {
    auto key = *aes_key_of("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    // Computed with Python's cryptography package: AES-256-CBC, IV = key[:16], 32-byte PKCS#7.
    auto sealed = seal(key, "wx1234567890abcdef", "<xml><Content><![CDATA[验证码]]></Content></xml>",
                       "0123456789abcdef");
    CHECK(sealed ==
          "Q3stYC6hdFzMh9T8HCvyDJkOBK0jyiN1y6jAinuFRHpMdmZ93tHcYDD/pc99318/qBkrCuq8tyyJ+0ZH7ae6eZ5PSnaKE/"
          "F6h8f910ewdHMUSk/QoLjkVivicOLRQa4P");
    auto opened = open(key, sealed);
    REQUIRE(opened);
    CHECK(opened->appid == "wx1234567890abcdef");
    CHECK(opened->xml == "<xml><Content><![CDATA[验证码]]></Content></xml>");
}

TEST_CASE("AES round trips for every message length 0-64, across the 32-byte padding edge") {
    auto key = *aes_key_of("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    const std::string appid = "wx0123456789abcd";  // 16 bytes: 16 + 4 + len + 16 is 32-aligned at len 28 and 60
    for (std::size_t len = 0; len <= 64; ++len) {
        std::string msg(len, '\0');
        for (std::size_t i = 0; i < len; ++i) msg[i] = static_cast<char>('a' + i % 26);
        auto sealed = seal(key, appid, msg);
        auto raw = base64_decode(sealed);
        REQUIRE(raw);
        INFO("length " << len);
        CHECK(raw->size() % 32 == 0);
        // Aligned plaintext still gets a whole block of padding (32 bytes of 32).
        auto unpadded = 16 + 4 + len + appid.size();
        CHECK(raw->size() == (unpadded / 32 + 1) * 32);
        auto opened = open(key, sealed);
        REQUIRE(opened);
        CHECK(opened->xml == msg);
        CHECK(opened->appid == appid);
    }
}

TEST_CASE("opening refuses corrupt or foreign ciphertext") {
    auto key = *aes_key_of("abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG");
    auto other = *aes_key_of("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789abcdefg");
    auto sealed = seal(key, "wxapp", "<xml/>");
    CHECK_FALSE(open(other, sealed));  // wrong key: the padding does not check out
    CHECK_FALSE(open(key, "not base64!"));
    CHECK_FALSE(open(key, base64_encode(std::string(16, 'x'))));  // not a whole 32-byte block
    CHECK_FALSE(open(key, ""));
    auto raw = *base64_decode(sealed);
    raw[raw.size() - 1] ^= 1;  // the last block decrypts to junk padding
    CHECK_FALSE(open(key, base64_encode(raw)));
}

TEST_CASE("push XML: CDATA, plain text, entities, nesting") {
    auto f = parse_xml(
        "<?xml version=\"1.0\"?>\n<xml><ToUserName><![CDATA[gh_1]]></ToUserName>\n"
        "<FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1648535359</CreateTime>"
        "<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>"
        "<EventKey><![CDATA[qrscene_login_1]]></EventKey><Content>a &lt;b&gt; &amp; &#20013;&#x6587;</Content>"
        "<ScanCodeInfo><ScanType><![CDATA[qrcode]]></ScanType></ScanCodeInfo><Empty/></xml>");
    REQUIRE(f);
    CHECK(f->at("ToUserName") == "gh_1");
    CHECK(f->at("CreateTime") == "1648535359");
    CHECK(f->at("EventKey") == "qrscene_login_1");
    CHECK(f->at("Content") == "a <b> & 中文");
    CHECK(f->at("ScanCodeInfo/ScanType") == "qrcode");
    CHECK(f->at("Empty").empty());
    CHECK_FALSE(f->contains("xml"));
}

TEST_CASE("malformed or dangerous XML is refused") {
    CHECK_FALSE(parse_xml(""));
    CHECK_FALSE(parse_xml("not xml"));
    CHECK_FALSE(parse_xml("<root><A>1</A></root>"));           // not <xml>
    CHECK_FALSE(parse_xml("<xml><A>1</B></xml>"));             // mismatched end tag
    CHECK_FALSE(parse_xml("<xml><A><![CDATA[open</A></xml>"));  // unterminated CDATA
    CHECK_FALSE(parse_xml("<xml><A>1</A>"));                   // no end of root
    CHECK_FALSE(parse_xml("<xml><A>1</A></xml>trailing"));
    CHECK_FALSE(parse_xml("<xml><A>&bogus;</A></xml>"));
    CHECK_FALSE(parse_xml("<!DOCTYPE x [<!ENTITY e \"boom\">]><xml><A>&e;</A></xml>"));
    std::string deep = "<xml>";
    for (int i = 0; i < 20; ++i) deep += "<A>";
    for (int i = 0; i < 20; ++i) deep += "</A>";
    CHECK_FALSE(parse_xml(deep + "</xml>"));
}

TEST_CASE("replies survive any content, including a CDATA terminator") {
    auto reply = text_reply("oUser", "gh_1", 123, "code ]]> 123456");
    auto f = parse_xml(reply);
    REQUIRE(f);
    CHECK(f->at("ToUserName") == "oUser");
    CHECK(f->at("FromUserName") == "gh_1");
    CHECK(f->at("MsgType") == "text");
    CHECK(f->at("Content") == "code ]]> 123456");
    auto env = parse_xml(encrypted_reply("ENC", "SIG", "1700000000", "42"));
    REQUIRE(env);
    CHECK(env->at("Encrypt") == "ENC");
    CHECK(env->at("MsgSignature") == "SIG");
    CHECK(env->at("TimeStamp") == "1700000000");
    CHECK(env->at("Nonce") == "42");
}
