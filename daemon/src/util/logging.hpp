#pragma once
// The daemon's one logger on stderr, at `level` (trace … off); called again on reload.
#include <string>

namespace chatd {

void setup_logging(const std::string& level);

}  // namespace chatd
