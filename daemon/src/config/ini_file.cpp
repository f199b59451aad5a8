#include "config/ini_file.hpp"

#include <map>

#include "config/config.hpp"

namespace chatd {

namespace {

std::string trimmed(std::string_view text) {
    const auto first = text.find_first_not_of(" \t\r");
    if (first == std::string_view::npos) return {};
    return std::string(text.substr(first, text.find_last_not_of(" \t\r") - first + 1));
}

}  // namespace

std::vector<ini_setting> read_ini(std::istream& in, const std::string& file) {
    std::vector<ini_setting> settings;
    std::map<std::string, int> first_line;
    std::string raw, section;
    for (int n = 1; std::getline(in, raw); ++n) {
        auto at = [&](const std::string& why) { return config_error(file + ":" + std::to_string(n) + ": " + why); };
        const std::string line = trimmed(std::string_view(raw).substr(0, raw.find('#')));
        if (line.empty()) continue;
        if (line.front() == '[') {
            if (line.back() != ']') throw at("section line '" + line + "' has no closing ']'");
            section = trimmed(std::string_view(line).substr(1, line.size() - 2));
            if (section.empty() || section.find_first_of(" \t[]=") != std::string::npos)
                throw at("'" + line + "' is not a section name");
            continue;
        }
        const auto equals = line.find('=');
        if (equals == std::string::npos)
            throw at("expected 'key = value', a [section] line or a # comment, got '" + line + "'");
        const std::string name = trimmed(std::string_view(line).substr(0, equals));
        if (name.empty()) throw at("no key before '='");
        if (name.find_first_of(" \t[]") != std::string::npos) throw at("'" + name + "' is not a key");
        std::string key = section.empty() ? name : section + "." + name;
        if (auto [earlier, fresh] = first_line.emplace(key, n); !fresh)
            throw at("key '" + key + "' is set twice (first on line " + std::to_string(earlier->second) + ")");
        settings.push_back({std::move(key), trimmed(std::string_view(line).substr(equals + 1)), n});
    }
    return settings;
}

}  // namespace chatd
