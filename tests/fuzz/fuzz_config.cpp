// chatd.conf as an operator (or a hostile file) writes it. The INI reader names a line for every
// complaint and returns settings with keys, in file order, none twice; the whole configuration
// read from the file throws nothing but config_error.
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <unistd.h>

#include "config/config.hpp"
#include "config/ini_file.hpp"
#include "fuzz_check.hpp"

using namespace chatd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    static const auto path =
        (std::filesystem::temp_directory_path() / ("chatd-fuzz-" + std::to_string(getpid()) + ".conf")).string();
    auto text = fuzz::as_text(data, size);

    std::istringstream in{std::string(text)};
    try {
        auto settings = read_ini(in, "fuzz.conf");
        std::set<std::string> seen;
        int last_line = 0;
        for (const auto& s : settings) {
            FUZZ_CHECK(!s.key.empty());
            FUZZ_CHECK(s.line > last_line);
            FUZZ_CHECK(seen.insert(s.key).second);
            last_line = s.line;
        }
    } catch (const config_error& e) {
        FUZZ_CHECK(std::string_view(e.what()).starts_with("fuzz.conf:"));
    }

    std::ofstream(path, std::ios::binary | std::ios::trunc).write(text.data(), static_cast<std::streamsize>(text.size()));
    try {
        auto c = reload_config({"--config", path});
        FUZZ_CHECK(c && c->config_file == path);
    } catch (const config_error&) {
    }
    return 0;
}
