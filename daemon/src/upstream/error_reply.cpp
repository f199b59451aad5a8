#include "upstream/error_reply.hpp"

#include <boost/json/parse.hpp>
#include <boost/json/serialize.hpp>
#include <boost/json/value.hpp>
#include <charconv>

#include "util/text.hpp"

namespace chatd::upstream {
namespace {

namespace json = boost::json;

std::string json_text(const json::value& v) {
    if (v.is_string()) return std::string(v.get_string());
    if (v.is_null()) return {};
    return json::serialize(v);
}

}  // namespace

void take_error(const json::value& err, outcome& out) {
    if (err.is_string()) {
        out.error_message = std::string(err.get_string());
        return;
    }
    if (!err.is_object()) return;
    const auto& o = err.get_object();
    if (const auto* m = o.if_contains("message")) out.error_message = json_text(*m);
    if (const auto* t = o.if_contains("type")) out.error_type = json_text(*t);
    if (const auto* c = o.if_contains("code")) out.error_code = json_text(*c);
    if (const auto* p = o.if_contains("param")) out.error_param = json_text(*p);
}

bool take_error_body(std::string_view body, outcome& out) {
    boost::system::error_code ec;
    auto v = json::parse(body, ec);
    if (ec || !v.is_object()) return false;
    const auto* err = v.get_object().if_contains("error");
    if (!err || err->is_null()) return false;
    take_error(*err, out);
    return true;
}

std::optional<int> parse_retry_after(std::string_view v) {
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t')) v.remove_prefix(1);
    while (!v.empty() && (v.back() == ' ' || v.back() == '\t')) v.remove_suffix(1);
    int seconds = 0;
    auto [end, ec] = std::from_chars(v.data(), v.data() + v.size(), seconds);
    if (v.empty() || ec != std::errc{} || end != v.data() + v.size() || seconds < 0)
        return std::nullopt;
    return seconds;
}

std::string excerpt(std::string_view s, std::size_t n) {
    if (s.size() <= n) return utf8_repaired(s);
    return utf8_repaired(utf8_prefix(s, n)) + "…";
}

bool refuses_stream_options(const outcome& o) {
    if (o.what != outcome::kind::http_error || o.http_status != 400 || o.got_delta) return false;
    for (const auto* text : {&o.error_message, &o.error_code, &o.error_param})
        if (text->find("stream_options") != std::string::npos) return true;
    return false;
}

}  // namespace chatd::upstream
