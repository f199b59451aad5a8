// chatd: options, --check-config and exit codes; everything else is in app.
#include <signal.h>

#include <iostream>

#include "app.hpp"
#include "config/config.hpp"

int main(int argc, char** argv) {
    chatd::command_line cl;
    std::shared_ptr<const chatd::config> cfg;
    try {
        cfg = chatd::load_config(argc, argv, cl);
    } catch (const chatd::config_error& e) {
        std::cerr << "chatd: " << e.what() << "\n";
        return 2;
    }
    if (!cfg) return 0;  // --help or --version
    if (cl.check_only) {
        std::cout << "chatd: configuration OK" << (cfg->config_file.empty() ? "" : " (" + cfg->config_file + ")")
                  << "\n";
        return 0;
    }
    ::signal(SIGPIPE, SIG_IGN);
    try {
        chatd::app a(cfg, std::vector<std::string>(argv + 1, argv + argc));
        return a.run();
    } catch (const std::exception& e) {
        std::cerr << "chatd: " << e.what() << "\n";
        return 1;
    }
}
