// What an API key asks the fake to be: `PREFIX[:behaviour[:opt=value]...]`. Kept apart from the
// server so that the list of behaviours and options reads in one place.
#pragma once

#include <chrono>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

namespace chatd::fake {

using ms = std::chrono::milliseconds;

// The command line's answer settings, which the key's options override.
struct defaults {
    std::vector<std::string> tokens;  // words of --text, each with its trailing space
    int token_count = 20;
    ms delay{0};
    ms first_delay{0};
};

// What the API key asks for.
struct plan {
    std::string behaviour = "ok";
    int tokens = 0;
    ms delay{0};
    ms first_delay{0};
    int think_tokens = 10;  // reasoning tokens of `reasoning`, `reasoning_or` and `think`
    ms think_delay{0};      // between reasoning tokens; `delay` unless given
    int retry_after = 1;
    int after = 3;
    unsigned status = 500;
    int balance = 42;     // what the provider balance endpoints report
    int fail_first = 0;   // the key's first N requests get 401 invalid_api_key (a key fixed later)
    // The hostile behaviours (fake_upstream_hostile.hpp).
    int mb = 20;           // `longline`: MiB of the one line
    int rate = 100'000;    // `flood`: events a second
    int seconds = 3;       // `flood`: for how long
    int chars = 1;         // `flood`: characters of each event's content
    int depth = 100'000;   // `deepjson`: how deep the arrays nest
    std::string problem;  // non-empty when the key cannot be understood
};

std::optional<int> to_int(std::string_view s);

// Unknown behaviours and options set `problem`, so a typo in a test fails loudly with a 400.
plan parse_key(std::string_view key, const defaults& d);

}  // namespace chatd::fake
