#pragma once
// What the fuzz targets share: an invariant check that counts as a crash (so libFuzzer keeps the
// input), and the cutting of one input into the pieces a parser takes.
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <string_view>

#define FUZZ_CHECK(condition)                                                                         \
    do {                                                                                              \
        if (!(condition)) {                                                                           \
            std::fprintf(stderr, "invariant broken: %s (%s:%d)\n", #condition, __FILE__, __LINE__); \
            std::abort();                                                                             \
        }                                                                                             \
    } while (0)

namespace chatd::fuzz {

inline std::string_view as_text(const std::uint8_t* data, std::size_t size) {
    return {reinterpret_cast<const char*>(data), size};
}

// The text before the first `separator` (all of it when there is none); `rest` keeps what follows.
inline std::string_view take_until(std::string_view& rest, std::string_view separator) {
    auto at = rest.find(separator);
    if (at == std::string_view::npos) {
        auto all = rest;
        rest = {};
        return all;
    }
    auto head = rest.substr(0, at);
    rest.remove_prefix(at + separator.size());
    return head;
}

// Whether `part` lies inside `whole` (a view the parser handed back into its input).
inline bool within(std::string_view part, std::string_view whole) {
    return part.empty() || (part.data() >= whole.data() && part.data() + part.size() <= whole.data() + whole.size());
}

}  // namespace chatd::fuzz
