// The XML WeChat pushes: whatever parse_xml accepts, written out again field by field in CDATA,
// reads back the same; and a passive reply carrying the input as its text reads back that text
// (an input that mentions a DOCTYPE or ENTITY is refused outright, even inside CDATA).
#include <string>

#include "fuzz_check.hpp"
#include "wechat/xml.hpp"

using namespace chatd;

namespace {

bool refused_outright(std::string_view text) {
    return text.find("<!DOCTYPE") != std::string_view::npos || text.find("<!ENTITY") != std::string_view::npos;
}

bool plain_name(std::string_view name) {
    if (name.empty()) return false;
    for (char c : name)
        if (!(std::isalnum(static_cast<unsigned char>(c)) || c == '_' || c == '-' || c == '.' || c == ':')) return false;
    return true;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = fuzz::as_text(data, size);
    if (auto fields = wechat::parse_xml(text)) {
        FUZZ_CHECK(!refused_outright(text));
        std::string again = "<xml>";
        bool flat = true;
        for (const auto& [name, value] : *fields) {
            FUZZ_CHECK(!name.empty());
            if (!plain_name(name)) {
                flat = false;
                break;
            }
            again += "<" + name + ">" + wechat::cdata(value) + "</" + name + ">";
        }
        again += "</xml>";
        if (flat && !refused_outright(again)) {
            auto reread = wechat::parse_xml(again);
            FUZZ_CHECK(reread && *reread == *fields);
        }
    }
    if (!refused_outright(text)) {
        auto reply = wechat::parse_xml(wechat::text_reply("o-user", "gh_account", 1733380000, text));
        FUZZ_CHECK(reply);
        FUZZ_CHECK(reply->at("Content") == text && reply->at("MsgType") == "text");
        FUZZ_CHECK(reply->at("ToUserName") == "o-user" && reply->at("CreateTime") == "1733380000");
    }
    return 0;
}
