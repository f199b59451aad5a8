// Provider balance endpoints and their answers; junk is never a balance.
#include <catch2/catch.hpp>

#include "upstream/key_checks.hpp"

using namespace chatd::upstream;

TEST_CASE("balance endpoints per provider") {
    CHECK(balance_url("deepseek", "https://api.deepseek.com/v1") == "https://api.deepseek.com/user/balance");
    CHECK(balance_url("deepseek", "https://api.deepseek.com") == "https://api.deepseek.com/user/balance");
    CHECK(balance_url("openrouter", "https://openrouter.ai/api/v1/") == "https://openrouter.ai/api/v1/credits");
    CHECK(balance_url("siliconflow", "https://api.siliconflow.cn/v1") == "https://api.siliconflow.cn/v1/user/info");
    CHECK(balance_url("moonshot", "https://api.moonshot.cn/v1") == "https://api.moonshot.cn/v1/users/me/balance");
    CHECK(balance_url("openai", "https://api.openai.com/v1").empty());
}

TEST_CASE("provider balance answers are parsed, junk is refused") {
    auto ds = parse_balance("deepseek", R"({"is_available":true,"balance_infos":[{"currency":"CNY","total_balance":"110.50","granted_balance":"10.00","topped_up_balance":"100.50"}]})");
    REQUIRE(ds);
    CHECK(ds->first == Approx(110.5));
    CHECK(ds->second == "CNY");
    auto orr = parse_balance("openrouter", R"({"data":{"total_credits":25.5,"total_usage":5.25}})");
    REQUIRE(orr);
    CHECK(orr->first == Approx(20.25));
    CHECK(orr->second == "USD");
    auto sf = parse_balance("siliconflow", R"({"code":20000,"data":{"balance":"1.00","totalBalance":"3.50"}})");
    REQUIRE(sf);
    CHECK(sf->first == Approx(3.5));
    auto ms = parse_balance("moonshot", R"({"code":0,"data":{"available_balance":49.58,"cash_balance":49.58}})");
    REQUIRE(ms);
    CHECK(ms->first == Approx(49.58));
    CHECK_FALSE(parse_balance("deepseek", "<html>login</html>"));
    CHECK_FALSE(parse_balance("deepseek", R"({"balance_infos":[]})"));
    CHECK_FALSE(parse_balance("openrouter", R"({"data":{"total_credits":"lots"}})"));
    CHECK_FALSE(parse_balance("moonshot", R"({"data":{}})"));
    CHECK_FALSE(parse_balance("openai", R"({"total":1})"));
}
