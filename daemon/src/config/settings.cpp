#include "config/settings.hpp"

#include <algorithm>
#include <cctype>
#include <stdexcept>

#include "util/text.hpp"

namespace chatd {

bool is_theme(std::string_view name) {
    return name == "light" || name == "dark" || name == "system" || name == "sepia";
}

std::string web_origin(std::string_view url) {
    std::string_view rest;
    if (url.starts_with("https://")) rest = url.substr(8);
    else if (url.starts_with("http://")) rest = url.substr(7);
    else return {};
    auto host = rest.substr(0, rest.find_first_of("/?#"));
    // Letters, digits, dots, dashes, an optional port: safe to repeat inside a CSP header.
    bool ok = !host.empty() && host.front() != '.' && host.front() != ':' &&
              std::all_of(host.begin(), host.end(), [](unsigned char ch) {
                  return std::isalnum(ch) || ch == '.' || ch == '-' || ch == ':';
              });
    if (!ok || std::count(host.begin(), host.end(), ':') > 1) return {};
    if (auto colon = host.find(':'); colon != std::string_view::npos) {
        auto port = host.substr(colon + 1);
        if (port.empty() || port.size() > 5 || !std::all_of(port.begin(), port.end(), [](unsigned char ch) { return std::isdigit(ch); }))
            return {};
    }
    return std::string(url.substr(0, url.size() - rest.size())) + std::string(host);
}

namespace {

// Empty, a path on this site ("/logo.png", never "//host"), or an absolute http(s) address;
// nothing that could break out of an HTML attribute or a header.
bool is_link(std::string_view v) {
    if (v.empty()) return true;
    if (v.size() > 2048) return false;
    bool plain = std::none_of(v.begin(), v.end(), [](unsigned char ch) {
        return ch <= ' ' || ch == '"' || ch == '\'' || ch == '<' || ch == '>' || ch == '\\' || ch == 0x7f;
    });
    if (!plain) return false;
    if (v[0] == '/') return v.size() == 1 || v[1] != '/';
    return !web_origin(v).empty();
}

}  // namespace

settings::settings(const config& c) { reseed(c); }

void settings::reseed(const config& c) {
    std::lock_guard lock(mu_);
    specs_ = {
        {"site.name", {kind::text, "chatd"}},
        {"site.announcement", {kind::text, ""}},
        {"site.default_theme", {kind::theme, "light"}},
        // Brand and shop: a logo (anywhere on the web: the page's CSP follows it), a line under
        // the name, and where recharge cards are sold (a Taobao shop, a card site).
        {"site.logo_url", {kind::link, ""}},
        {"site.tagline", {kind::text, ""}},
        {"site.shop_url", {kind::link, ""}},
        {"billing.trial_questions", {kind::integer, std::to_string(c.billing.trial_questions)}},
        {"billing.free_if_slower_than", {kind::integer, std::to_string(c.billing.free_if_slower_than)}},
        // What the operator's figures are in: upstream prices, and the price of one credit.
        {"billing.currency", {kind::currency, "CNY"}},
        {"billing.credit_price", {kind::amount, "0"}},
        {"referral.signup_reward", {kind::integer, "0"}},
        {"referral.paid_percent", {kind::percent, "0"}},
        {"limits.answers_in_flight", {kind::integer, std::to_string(c.limits.answers_in_flight)}},
        {"limits.questions_per_minute", {kind::integer, std::to_string(c.limits.questions_per_minute)}},
        {"limits.signups_per_hour", {kind::integer, std::to_string(c.limits.signups_per_hour)}},
        {"limits.login_attempts_per_15min", {kind::integer, std::to_string(c.limits.login_attempts_per_15min)}},
        {"keys.recheck_minutes", {kind::integer, "60"}},
        {"chat.allow_custom_system_prompt", {kind::boolean, "off"}},
        {"chat.default_model", {kind::text, ""}},
        // The OpenAI-compatible API (/v1) for users' own clients, paid with the same credits.
        {"api.enabled", {kind::boolean, "on"}},
        {"content.sensitive_words", {kind::lines, ""}},
    };
}

bool settings::known(const std::string& key) const {
    std::lock_guard lock(mu_);
    return specs_.count(key) > 0;
}

std::vector<std::string> settings::keys() const {
    std::lock_guard lock(mu_);
    std::vector<std::string> out;
    for (auto& [k, s] : specs_) out.push_back(k);
    return out;
}

std::string settings::validate(const std::string& key, const std::string& value) const {
    std::lock_guard lock(mu_);
    auto it = specs_.find(key);
    if (it == specs_.end()) throw std::invalid_argument("unknown setting '" + key + "'");
    if (!valid_utf8(value)) throw std::invalid_argument("value is not valid UTF-8");
    if (value.size() > 256 * 1024) throw std::invalid_argument("value is longer than 256 KiB");
    std::string v = it->second.type == kind::lines ? value : trim(value);
    switch (it->second.type) {
        case kind::text:
        case kind::lines:
            return v;
        case kind::integer:
        case kind::percent: {
            std::size_t used = 0;
            long long n = 0;
            try {
                n = std::stoll(v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != v.size() || n < 0)
                throw std::invalid_argument(key + " expects a whole number ≥ 0");
            if (it->second.type == kind::percent && n > 100)
                throw std::invalid_argument(key + " expects 0 to 100");
            return std::to_string(n);
        }
        case kind::boolean:
            if (v == "on" || v == "true" || v == "1" || v == "yes") return "on";
            if (v == "off" || v == "false" || v == "0" || v == "no") return "off";
            throw std::invalid_argument(key + " expects on or off");
        case kind::theme:
            if (is_theme(v)) return v;
            throw std::invalid_argument(key + " expects light, dark, system or sepia");
        case kind::amount: {
            std::size_t used = 0;
            double x = -1;
            try {
                x = std::stod(v, &used);
            } catch (const std::exception&) {
                used = 0;
            }
            if (used == 0 || used != v.size() || !(x >= 0 && x <= 1e9))
                throw std::invalid_argument(key + " expects a number ≥ 0, such as 0.5");
            return v;
        }
        case kind::link:
            if (is_link(v)) return v;
            throw std::invalid_argument(key + " expects an http(s) address such as https://example.com/logo.png, "
                                              "or a path on this site such as /logo.png");
        case kind::currency:
            if (v.size() == 3 && std::all_of(v.begin(), v.end(), [](char ch) { return ch >= 'A' && ch <= 'Z'; }))
                return v;
            throw std::invalid_argument(key + " expects a three-letter currency code, such as CNY or USD");
    }
    return v;
}

void settings::load(const std::map<std::string, std::string>& stored) {
    std::lock_guard lock(mu_);
    stored_ = stored;
}

void settings::put(const std::string& key, const std::string& normalised) {
    std::lock_guard lock(mu_);
    stored_[key] = normalised;
}

std::string settings::get(const std::string& key) const {
    std::lock_guard lock(mu_);
    if (auto it = stored_.find(key); it != stored_.end()) return it->second;
    if (auto it = specs_.find(key); it != specs_.end()) return it->second.fallback;
    return {};
}

long long settings::get_int(const std::string& key) const {
    try {
        return std::stoll(get(key));
    } catch (const std::exception&) {
        return 0;
    }
}

bool settings::get_bool(const std::string& key) const { return get(key) == "on"; }

std::map<std::string, std::string> settings::all() const {
    std::map<std::string, std::string> out;
    for (auto& k : keys()) out[k] = get(k);
    return out;
}

}  // namespace chatd
