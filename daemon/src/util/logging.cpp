#include "util/logging.hpp"

#include <cstdlib>
#include <spdlog/sinks/stdout_color_sinks.h>
#include <spdlog/spdlog.h>

namespace chatd {

void setup_logging(const std::string& level) {
    static bool once = false;
    if (!once) {
        auto logger = spdlog::stderr_color_mt("chatd");
        // journald stamps every line itself.
        logger->set_pattern(std::getenv("JOURNAL_STREAM") ? "%^%l%$ %v" : "%Y-%m-%d %H:%M:%S.%e %^%l%$ %v");
        spdlog::set_default_logger(logger);
        once = true;
    }
    spdlog::set_level(spdlog::level::from_str(level));
}

}  // namespace chatd
