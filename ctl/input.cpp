#include "input.hpp"

#include <termios.h>
#include <unistd.h>

#include <csignal>
#include <iostream>
#include <iterator>

#include "errors.hpp"

namespace chatd::ctl {

namespace {

constexpr std::string_view blanks = " \t\r\n\f\v";

std::string_view trim(std::string_view text) {
    const auto first = text.find_first_not_of(blanks);
    if (first == std::string_view::npos) return {};
    return text.substr(first, text.find_last_not_of(blanks) - first + 1);
}

void drop_carriage_return(std::string& line) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
}

// Terminal state to put back if a signal arrives while echo is off; without it
// an interrupted prompt would leave the operator's shell not echoing.
termios saved_terminal;

extern "C" void restore_terminal_and_reraise(int signal_number) {
    tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
    std::signal(signal_number, SIG_DFL);
    std::raise(signal_number);
}

class echo_off {
  public:
    echo_off() {
        if (tcgetattr(STDIN_FILENO, &saved_terminal) != 0) return;
        active_ = true;
        struct sigaction action {};
        action.sa_handler = restore_terminal_and_reraise;
        sigemptyset(&action.sa_mask);
        for (std::size_t i = 0; i < std::size(signals_); ++i)
            sigaction(signals_[i], &action, &previous_[i]);
        termios quiet = saved_terminal;
        quiet.c_lflag &= ~static_cast<tcflag_t>(ECHO);
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &quiet);
    }

    ~echo_off() {
        if (!active_) return;
        tcsetattr(STDIN_FILENO, TCSAFLUSH, &saved_terminal);
        for (std::size_t i = 0; i < std::size(signals_); ++i)
            sigaction(signals_[i], &previous_[i], nullptr);
    }

    echo_off(const echo_off&) = delete;
    echo_off& operator=(const echo_off&) = delete;

  private:
    static constexpr int signals_[] = {SIGINT, SIGTERM, SIGHUP, SIGQUIT};
    struct sigaction previous_[std::size(signals_)]{};
    bool active_ = false;
};

std::string prompt_hidden(const std::string& prompt) {
    std::cerr << prompt << std::flush;
    std::string line;
    bool got_line = false;
    {
        echo_off guard;
        got_line = static_cast<bool>(std::getline(std::cin, line));
    }
    // The Enter key was not echoed either.
    std::cerr << '\n';
    if (!got_line) throw usage_error("no password given");
    return line;
}

}  // namespace

std::string read_all(std::istream& in) {
    std::string text{std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>()};
    text.erase(text.find_last_not_of("\r\n") + 1);
    return text;
}

std::vector<std::string> read_lines(std::istream& in) {
    std::vector<std::string> items;
    for (std::string line; std::getline(in, line);)
        if (const auto item = trim(line); !item.empty()) items.emplace_back(item);
    return items;
}

std::string read_new_password(const std::string& username) {
    if (isatty(STDIN_FILENO)) {
        std::string password = prompt_hidden("Password for " + username + ": ");
        if (password.empty()) throw usage_error("empty password");
        if (prompt_hidden("Repeat the password: ") != password)
            throw usage_error("the passwords do not match");
        return password;
    }

    std::string password;
    if (!std::getline(std::cin, password)) throw usage_error("no password on standard input");
    drop_carriage_return(password);
    if (password.empty()) throw usage_error("empty password");
    if (std::string repeat; std::getline(std::cin, repeat)) {
        drop_carriage_return(repeat);
        if (repeat != password)
            throw usage_error("the second line of standard input differs from the first");
        if (std::string more; std::getline(std::cin, more))
            throw usage_error("standard input holds more than the password and its repetition");
    }
    return password;
}

}  // namespace chatd::ctl
