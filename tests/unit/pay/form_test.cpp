// Forms, signatures and amounts as the payment providers speak them.
#include <catch2/catch.hpp>

#include "pay/epay.hpp"
#include "pay/form.hpp"

using namespace chatd::pay;

TEST_CASE("forms decode in order, with '+' as a space and UTF-8 escapes") {
    auto f = parse_form("b=2&a=%E6%9C%88%E5%8D%A1+100&empty=&flag&a2=x%3Dy%26z");
    REQUIRE(f.size() == 5);
    CHECK(f[0] == std::pair<std::string, std::string>{"b", "2"});
    CHECK(field(f, "a") == "月卡 100");
    CHECK(field(f, "empty").empty());
    CHECK(field(f, "flag").empty());
    CHECK(field(f, "a2") == "x=y&z");
    CHECK(field(f, "missing").empty());
    CHECK(parse_form(encode_form(f)) == f);
    CHECK(url_encode("a b/中") == "a%20b%2F%E4%B8%AD");
}

TEST_CASE("the signed text sorts the non-empty fields and leaves out sign and sign_type") {
    form f{{"type", "alipay"}, {"sign", "x"}, {"money", "1.00"}, {"sign_type", "MD5"}, {"empty", ""}, {"pid", "7"}};
    CHECK(sign_text(f) == "money=1.00&pid=7&type=alipay");
}

TEST_CASE("epay's MD5 signature matches an independent computation") {
    // Python: hashlib.md5((sorted k=v&… + key).encode()).hexdigest()
    form f{{"pid", "1001"},
           {"type", "alipay"},
           {"out_trade_no", "20261205ABC"},
           {"notify_url", "https://chat.example.com/pay/epay/notify"},
           {"name", "月卡 100 次"},
           {"money", "19.90"},
           {"sign_type", "MD5"},
           {"empty", ""}};
    CHECK(epay_signature(f, "secretkey") == "7afeec770d8965e9899c3b6bb431371d");
}

TEST_CASE("amounts are read in integer fen and refused when they are not plain yuan") {
    CHECK(parse_yuan("19.90") == 1990);
    CHECK(parse_yuan("19.9") == 1990);
    CHECK(parse_yuan("19") == 1900);
    CHECK(parse_yuan("0.01") == 1);
    for (auto bad : {"", "19.", ".5", "19.901", "-1.00", "1e3", "1,00", " 1.00", "abc", "12345678901234"})
        CHECK_FALSE(parse_yuan(bad));
    CHECK(yuan(1990) == "19.90");
    CHECK(yuan(5) == "0.05");
    CHECK(yuan(100000) == "1000.00");
}
