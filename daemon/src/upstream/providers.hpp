#pragma once
// The upstream providers chatd knows by name: the one table that admin.keys.add validates
// against, that picks a key's balance endpoint, and that chatctl and the web console list
// (admin.providers.list). Every provider speaks the OpenAI chat API; they differ in extras.
#include <boost/json/value.hpp>
#include <optional>
#include <span>
#include <string>
#include <string_view>
#include <utility>

namespace chatd::upstream {

struct provider {
    std::string_view id;        // what admin.keys.add takes: "deepseek"
    std::string_view name;      // for people: "DeepSeek"
    std::string_view base_url;  // the usual base URL, a hint for operators
    // The balance endpoint, relative to the key's base URL; empty when the provider has none.
    std::string_view balance_path;
    bool balance_beside_v1 = false;  // the endpoint sits next to /v1, not under it
    // {amount, currency} from the endpoint's answer; nullopt for anything unexpected.
    std::optional<std::pair<double, std::string>> (*parse_balance)(const boost::json::value& body) = nullptr;
};

std::span<const provider> providers();
const provider* find_provider(std::string_view id);

}  // namespace chatd::upstream
