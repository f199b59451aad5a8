#include <catch2/catch.hpp>

#include <chrono>

#include "util/windowed_max.hpp"

using namespace chatd;
using namespace std::chrono_literals;

TEST_CASE("the worst value lately: kept for one to two windows, then forgotten") {
    const auto t0 = windowed_max::clock::now();
    windowed_max m(10s);
    CHECK(m.worst(t0) == 0.0);
    m.note(0.25, t0 + 1s);
    m.note(0.5, t0 + 2s);
    m.note(0.125, t0 + 3s);
    CHECK(m.worst(t0 + 3s) == 0.5);
    // In the next window the last one's worst still counts, beside the new ones.
    m.note(0.0625, t0 + 12s);
    CHECK(m.worst(t0 + 12s) == 0.5);
    // A window later only what came since counts.
    CHECK(m.worst(t0 + 21s) == 0.0625);
    // Nothing noted for two windows: nothing to show.
    CHECK(m.worst(t0 + 45s) == 0.0);
    m.note(0.75, t0 + 46s);
    CHECK(m.worst(t0 + 46s) == 0.75);
}
