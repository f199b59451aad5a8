#pragma once
// Operator settings that change at run time (admin.settings.*). Values are strings in the
// database; each known key has a type, a validator and a default taken from the config file.
#include <map>
#include <mutex>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "config/config.hpp"

namespace chatd {

// The named themes the SPA ships.
bool is_theme(std::string_view name);

// "https://host[:port]" of an absolute http(s) address, "" for anything else (paths too).
std::string web_origin(std::string_view url);

class settings {
public:
    explicit settings(const config& c);

    // Validates and normalises a new value; throws std::invalid_argument with the reason.
    std::string validate(const std::string& key, const std::string& value) const;
    bool known(const std::string& key) const;
    std::vector<std::string> keys() const;

    void load(const std::map<std::string, std::string>& stored);  // values from the database
    void put(const std::string& key, const std::string& normalised);
    void reseed(const config& c);  // SIGHUP: new config defaults for keys never set at run time

    std::string get(const std::string& key) const;
    long long get_int(const std::string& key) const;
    bool get_bool(const std::string& key) const;
    std::map<std::string, std::string> all() const;

private:
    enum class kind { text, integer, boolean, percent, theme, lines, amount, currency, link };
    struct spec {
        kind type;
        std::string fallback;
    };
    std::map<std::string, spec> specs_;
    mutable std::mutex mu_;
    std::map<std::string, std::string> stored_;
};

}  // namespace chatd
