// The web app manifest, written from the site's settings so that "add to home screen" shows
// the operator's name and logo (CONTRACT §3).
#include <boost/json.hpp>

#include "config/settings.hpp"
#include "web/front_end.hpp"

namespace chatd::web {

namespace json = boost::json;

namespace {

// The first `n` characters (code points) of valid UTF-8.
std::string first_chars(std::string_view s, std::size_t n) {
    std::size_t seen = 0, i = 0;
    for (; i < s.size(); ++i)
        if ((static_cast<unsigned char>(s[i]) & 0xC0) != 0x80 && seen++ == n) break;
    return std::string(s.substr(0, i));
}

}  // namespace

std::string web_manifest(const settings& site) {
    auto name = site.get("site.name");
    if (name.empty()) name = "chatd";
    json::array icons;
    if (auto logo = site.get("site.logo_url"); !logo.empty())
        icons.push_back(json::object{{"src", logo}, {"sizes", "any"}, {"purpose", "any"}});
    icons.push_back(json::object{{"src", "/icon-192.png"}, {"sizes", "192x192"}, {"type", "image/png"}});
    icons.push_back(json::object{{"src", "/icon-512.png"}, {"sizes", "512x512"}, {"type", "image/png"}});
    icons.push_back(json::object{{"src", "/favicon.svg"}, {"sizes", "any"}, {"type", "image/svg+xml"}});
    json::object m{{"name", name},
                   // Home screens show about twelve characters under an icon.
                   {"short_name", first_chars(name, 12)},
                   {"description", site.get("site.tagline")},
                   {"start_url", "/"},
                   {"scope", "/"},
                   {"display", "standalone"},
                   {"background_color", "#ffffff"},
                   {"theme_color", "#2563eb"},
                   {"icons", std::move(icons)}};
    return json::serialize(m);
}

}  // namespace chatd::web
