#include "upstream/providers.hpp"

#include <algorithm>

namespace chatd::upstream {

namespace json = boost::json;

namespace {

std::optional<double> number(const json::value* v) {
    if (!v) return std::nullopt;
    if (v->is_number()) return v->to_number<double>();
    if (v->is_string()) {
        try {
            std::size_t used = 0;
            std::string s(v->get_string());
            double d = std::stod(s, &used);
            if (used == s.size()) return d;
        } catch (const std::exception&) {
        }
    }
    return std::nullopt;
}

const json::value* at(const json::value& v, std::initializer_list<std::string_view> path) {
    const json::value* cur = &v;
    for (auto key : path) {
        if (!cur->is_object()) return nullptr;
        cur = cur->get_object().if_contains(key);
        if (!cur) return nullptr;
    }
    return cur;
}

std::optional<std::pair<double, std::string>> deepseek_balance(const json::value& v) {
    auto* infos = at(v, {"balance_infos"});
    if (!infos || !infos->is_array() || infos->get_array().empty()) return std::nullopt;
    const auto& first = infos->get_array().front();
    auto amount = number(at(first, {"total_balance"}));
    auto* currency = at(first, {"currency"});
    if (!amount || !currency || !currency->is_string()) return std::nullopt;
    return std::pair{*amount, std::string(currency->get_string())};
}

std::optional<std::pair<double, std::string>> openrouter_balance(const json::value& v) {
    auto credits = number(at(v, {"data", "total_credits"}));
    auto usage = number(at(v, {"data", "total_usage"}));
    if (!credits || !usage) return std::nullopt;
    return std::pair{*credits - *usage, std::string("USD")};
}

std::optional<std::pair<double, std::string>> siliconflow_balance(const json::value& v) {
    auto amount = number(at(v, {"data", "totalBalance"}));
    if (!amount) return std::nullopt;
    return std::pair{*amount, std::string("CNY")};
}

std::optional<std::pair<double, std::string>> moonshot_balance(const json::value& v) {
    auto amount = number(at(v, {"data", "available_balance"}));
    if (!amount) return std::nullopt;
    return std::pair{*amount, std::string("CNY")};
}

constexpr provider table[] = {
    {"openai", "OpenAI (or any OpenAI-compatible API)", "https://api.openai.com/v1", "", false, nullptr},
    {"deepseek", "DeepSeek", "https://api.deepseek.com/v1", "/user/balance", true, deepseek_balance},
    {"openrouter", "OpenRouter", "https://openrouter.ai/api/v1", "/credits", false, openrouter_balance},
    {"siliconflow", "SiliconFlow", "https://api.siliconflow.cn/v1", "/user/info", false, siliconflow_balance},
    {"moonshot", "Moonshot", "https://api.moonshot.cn/v1", "/users/me/balance", false, moonshot_balance},
};

}  // namespace

std::span<const provider> providers() { return table; }

const provider* find_provider(std::string_view id) {
    auto it = std::find_if(std::begin(table), std::end(table), [&](const provider& p) { return p.id == id; });
    return it == std::end(table) ? nullptr : it;
}

}  // namespace chatd::upstream
