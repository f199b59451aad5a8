#pragma once
// The wall clock in Unix seconds, the unit every stored time uses.
#include <chrono>
#include <cstdint>

namespace chatd {

inline std::int64_t unix_now() {
    return std::chrono::duration_cast<std::chrono::seconds>(std::chrono::system_clock::now().time_since_epoch())
        .count();
}

}  // namespace chatd
