#include "fake_upstream_plan.hpp"

#include <algorithm>
#include <charconv>
#include <iterator>

namespace chatd::fake {

std::optional<int> to_int(std::string_view s) {
    int v = 0;
    auto [end, ec] = std::from_chars(s.data(), s.data() + s.size(), v);
    if (ec != std::errc{} || end != s.data() + s.size() || v < 0) return std::nullopt;
    return v;
}

plan parse_key(std::string_view key, const defaults& d) {
    plan p;
    p.tokens = d.token_count;
    p.delay = d.delay;
    p.first_delay = d.first_delay;
    std::optional<ms> think_delay;  // resolved last: it follows `delay`, wherever that appears
    std::vector<std::string_view> parts;
    for (std::size_t start = 0;;) {
        auto colon = key.find(':', start);
        parts.push_back(key.substr(start, colon - start));
        if (colon == std::string_view::npos) break;
        start = colon + 1;
    }
    if (parts.size() >= 2) p.behaviour = parts[1];
    if (p.behaviour == "slow") p.delay = ms{500};
    for (std::size_t i = 2; i < parts.size(); ++i) {
        auto eq = parts[i].find('=');
        auto name = parts[i].substr(0, eq);
        auto value = eq == std::string_view::npos ? std::optional<int>{}
                                                  : to_int(parts[i].substr(eq + 1));
        if (!value) {
            p.problem = "bad fake option '" + std::string(parts[i]) + "'";
            return p;
        }
        if (name == "tokens") p.tokens = *value;
        else if (name == "delay") p.delay = ms{*value};
        else if (name == "first_delay") p.first_delay = ms{*value};
        else if (name == "think_tokens") p.think_tokens = *value;
        else if (name == "think_delay") think_delay = ms{*value};
        else if (name == "retry_after") p.retry_after = *value;
        else if (name == "after") p.after = *value;
        else if (name == "status" && *value >= 100 && *value <= 599) p.status = *value;
        else if (name == "balance") p.balance = *value;
        else if (name == "fail_first") p.fail_first = *value;
        else if (name == "mb") p.mb = *value;
        else if (name == "rate") p.rate = *value;
        else if (name == "seconds") p.seconds = *value;
        else if (name == "chars") p.chars = *value;
        else if (name == "depth") p.depth = *value;
        else {
            p.problem = "unknown fake option '" + std::string(parts[i]) + "'";
            return p;
        }
    }
    p.think_delay = think_delay.value_or(p.delay);
    static constexpr std::string_view known[] = {
        "ok",   "echo",      "invalid", "deactivated", "ratelimit", "quota",     "error",
        "badrequest", "hang", "hang_body", "drop", "slow",     "malformed", "badjson",
        "reasoning", "reasoning_or", "think", "nostreamopts", "demo", "longline", "endless_line",
        "endless_event", "endless_chunk_size", "flood", "badutf8", "deepjson"};
    if (std::find(std::begin(known), std::end(known), p.behaviour) == std::end(known))
        p.problem = "unknown fake behaviour '" + p.behaviour + "'";
    return p;
}

}  // namespace chatd::fake
