// The reason table is the one list of error reasons: everything the daemon throws is in it,
// and the web app has words for each in both languages.
#include <catch2/catch.hpp>

#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>

#include "util/app_error.hpp"
#include "util/reasons.hpp"

using namespace chatd;
namespace fs = std::filesystem;

namespace {

std::string read_file(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream s;
    s << in.rdbuf();
    return s.str();
}

std::set<std::string> matches(const std::string& text, const std::regex& re) {
    std::set<std::string> out;
    for (auto it = std::sregex_iterator(text.begin(), text.end(), re); it != std::sregex_iterator(); ++it)
        out.insert((*it)[1]);
    return out;
}

}  // namespace

TEST_CASE("every reason the daemon throws is in the table, with a code and a message") {
    const std::regex thrown(R"re((?:app_error|app_error|fail)\("([a-z_]+)")re");
    std::set<std::string> used;
    for (auto& entry : fs::recursive_directory_iterator(fs::path(CHATD_SOURCE_DIR) / "daemon" / "src"))
        if (entry.path().extension() == ".cpp" || entry.path().extension() == ".hpp")
            for (auto& r : matches(read_file(entry.path()), thrown)) used.insert(r);
    REQUIRE(used.size() > 10);
    for (auto& r : used) {
        INFO(r);
        CHECK(find_reason(r));
    }
    std::set<std::string_view> seen;
    for (auto& r : reasons()) {
        INFO(r.reason);
        CHECK(seen.insert(r.reason).second);
        CHECK(!r.message.empty());
        CHECK((r.rpc_code == -32602 || r.rpc_code == -32603 || (r.rpc_code <= -32000 && r.rpc_code >= -32099)));
    }
    CHECK(rpc_code_of("insufficient_credits") == -32010);
    CHECK(rpc_code_of("no such reason") == -32000);
    CHECK(std::string(app_error("card_used").what()) == std::string(find_reason("card_used")->message));
}

TEST_CASE("the web app translates every reason users can meet") {
    auto root = fs::path(CHATD_SOURCE_DIR) / "webui" / "src";
    const std::regex key(R"re('error\.([a-z_]+)')re");
    auto zh = matches(read_file(root / "i18n.ts"), key);
    auto en = matches(read_file(root / "locales" / "en.ts"), key);
    REQUIRE(zh.size() > 10);
    // Reasons only the admin socket or the operator's console meets are shown as the daemon words them.
    const std::set<std::string> operator_only = {"login_pending", "openid_taken", "internal_error"};
    for (auto& r : reasons()) {
        std::string name(r.reason);
        if (operator_only.count(name)) continue;
        INFO(name);
        CHECK(zh.count(name));
        CHECK(en.count(name));
    }
}
