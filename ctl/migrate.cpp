#include "migrate.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>
#include <iostream>

namespace chatd::ctl {

exit_status run_migrate(const std::vector<std::string>& args) {
    // chatd migrate checks the arguments and prints the usage (exit 2) itself.
    std::error_code ec;
    auto beside = std::filesystem::read_symlink("/proc/self/exe", ec).parent_path() / "chatd";
    std::string program = !ec && std::filesystem::is_regular_file(beside) ? beside.string() : "chatd";
    std::vector<std::string> words{program, "migrate"};
    words.insert(words.end(), args.begin(), args.end());
    std::vector<char*> argv;
    for (auto& w : words) argv.push_back(w.data());
    argv.push_back(nullptr);

    std::cout.flush();
    pid_t child = fork();
    if (child == 0) {
        execvp(argv[0], argv.data());
        std::cerr << "chatctl: cannot run " << program << ": " << std::strerror(errno) << "\n";
        _exit(127);
    }
    if (child < 0) throw std::runtime_error(std::string("fork: ") + std::strerror(errno));
    int status = 0;
    while (waitpid(child, &status, 0) < 0 && errno == EINTR) {
    }
    if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return exit_status::ok;
    if (WIFEXITED(status) && WEXITSTATUS(status) == 2) return exit_status::usage;
    return exit_status::daemon_error;
}

}  // namespace chatd::ctl
