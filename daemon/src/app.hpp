#pragma once
// The composition root: builds every part in dependency order, starts the listeners,
// tells systemd when ready, and stops in reverse order (drain, close, join).
#include <memory>
#include <string>
#include <vector>

#include "config/config.hpp"

namespace chatd {

class app {
public:
    app(std::shared_ptr<const config> cfg, std::vector<std::string> args);
    ~app();
    // Runs until SIGTERM/SIGINT and the drain are done. Returns the process exit status.
    int run();

private:
    struct impl;
    std::unique_ptr<impl> impl_;
};

}  // namespace chatd
