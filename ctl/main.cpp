#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "client.hpp"
#include "commands.hpp"
#include "errors.hpp"
#include "output.hpp"

namespace chatd::ctl {
namespace {

namespace po = boost::program_options;

constexpr const char* default_socket = "/run/chatd/admin.sock";
constexpr double default_timeout_s = 30;
// A week: far beyond any backup, and far from overflowing the millisecond count.
constexpr double max_timeout_s = 604800;
constexpr std::string_view usage_line =
    "usage: chatctl [-s PATH] [--json] [--timeout SECONDS] COMMAND [ARG...]";

struct global_options {
    std::optional<std::string> socket;
    bool json = false;
    bool help = false;
    bool version = false;
    double timeout_s = default_timeout_s;
    std::vector<std::string> words;
};

// A usage error about the command line as a whole, answered with the general usage.
struct general_usage_error : usage_error {
    using usage_error::usage_error;
};

// From the command word on, every argument belongs to the command, so that
// `keys add --note ...` reaches the command's own parser instead of this one.
std::vector<po::option> rest_is_command(std::vector<std::string>& args) {
    std::vector<po::option> rest;
    if (args.empty() || (args.front().starts_with('-') && args.front() != "-")) return rest;
    for (auto& arg : args) {
        po::option word;
        word.value.push_back(arg);
        word.original_tokens.push_back(arg);
        rest.push_back(std::move(word));
    }
    args.clear();
    return rest;
}

global_options parse_global_options(int argc, char** argv) {
    global_options parsed;
    po::options_description options;
    auto add = options.add_options();
    add("socket,s", po::value<std::string>());
    add("json", po::bool_switch(&parsed.json));
    add("timeout", po::value<double>(&parsed.timeout_s));
    add("help,h", po::bool_switch(&parsed.help));
    add("version", po::bool_switch(&parsed.version));
    add("words", po::value<std::vector<std::string>>(&parsed.words));
    po::positional_options_description positional;
    positional.add("words", -1);

    po::variables_map given;
    try {
        po::store(po::command_line_parser(argc, argv)
                      .options(options)
                      .positional(positional)
                      .extra_style_parser(rest_is_command)
                      .run(),
                  given);
        po::notify(given);
    } catch (const po::error& error) {
        throw general_usage_error(error.what());
    }
    if (given.count("socket")) parsed.socket = given["socket"].as<std::string>();
    if (!std::isfinite(parsed.timeout_s) || parsed.timeout_s <= 0 ||
        parsed.timeout_s > max_timeout_s)
        throw general_usage_error(
            "--timeout takes a number of seconds, above 0 and at most 604800");
    return parsed;
}

std::string socket_path(const global_options& options) {
    if (options.socket) return *options.socket;
    if (const char* from_environment = std::getenv("CHATD_SOCKET");
        from_environment && *from_environment)
        return from_environment;
    return default_socket;
}

// "keys add [--base-url URL] ... KEY..."
std::string words_and_synopsis(const command& entry) {
    std::string line(entry.words);
    if (!entry.synopsis.empty()) line += " " + std::string(entry.synopsis);
    return line;
}

std::string usage_of(const command& entry) {
    return "usage: chatctl " + words_and_synopsis(entry);
}

std::string_view summary_of(const command& entry) {
    return entry.help.substr(0, entry.help.find('\n'));
}

void print_help(std::ostream& out) {
    out << usage_line << "\n\n"
        << "Administer a running chatd through its admin socket.\n\n"
           "Options:\n"
           "  -s, --socket PATH   admin socket (default: $CHATD_SOCKET, else "
        << default_socket << ")\n"
        << "  --json              print the daemon's result as JSON\n"
           "  --timeout SECONDS   give up after this long (default: "
        << default_timeout_s << ")\n"
        << "  -h, --help          show this help\n"
           "  --version           show the version\n\n"
           "Commands:\n";
    for (const auto& entry : command_table())
        out << "  " << words_and_synopsis(entry) << "\n      " << summary_of(entry) << '\n';
    out << "  help [--list | COMMAND]\n      Show the help of a command, or list the command "
           "names.\n\n"
           "Exit status: 0 success, 1 the daemon returned an error, 2 usage error,\n"
           "3 cannot connect to the daemon.\n";
}

// How many leading `words` the command's words take, or 0 when it does not match.
std::size_t match_length(const command& entry, const std::vector<std::string>& words) {
    std::istringstream expected{std::string(entry.words)};
    std::size_t matched = 0;
    for (std::string word; expected >> word; ++matched)
        if (matched >= words.size() || words[matched] != word) return 0;
    return matched;
}

// Commands whose first word is `group`, such as every "keys ..." command.
std::vector<const command*> group_of(std::string_view group) {
    std::vector<const command*> members;
    for (const auto& entry : command_table())
        if (entry.words.substr(0, entry.words.find(' ')) == group) members.push_back(&entry);
    return members;
}

std::string group_usage(const std::vector<const command*>& members) {
    std::string text;
    for (const auto* member : members)
        text +=
            (text.empty() ? "usage: chatctl " : "\n       chatctl ") + words_and_synopsis(*member);
    return text;
}

exit_status run_help(const std::vector<std::string>& topic) {
    if (topic.empty()) {
        print_help(std::cout);
        return exit_status::ok;
    }
    if (topic.size() == 1 && topic[0] == "--list") {
        for (const auto& entry : command_table()) std::cout << entry.words << '\n';
        std::cout << "help\n";
        return exit_status::ok;
    }
    for (const auto& entry : command_table()) {
        if (match_length(entry, topic) == topic.size()) {
            std::cout << usage_of(entry) << "\n\n" << entry.help << '\n';
            return exit_status::ok;
        }
    }
    if (const auto members = group_of(topic[0]); topic.size() == 1 && !members.empty()) {
        for (const auto* member : members)
            std::cout << usage_of(*member) << "\n    " << summary_of(*member) << '\n';
        return exit_status::ok;
    }
    if (topic.size() == 1 && topic[0] == "help") {
        std::cout << "usage: chatctl help [--list | COMMAND]\n";
        return exit_status::ok;
    }
    std::string asked = topic[0];
    for (std::size_t i = 1; i < topic.size(); ++i) asked += " " + topic[i];
    std::cerr << "chatctl: no command '" << asked << "'\n" << usage_line << '\n';
    return exit_status::usage;
}

exit_status run(int argc, char** argv) {
    global_options options;
    const command* chosen = nullptr;
    try {
        options = parse_global_options(argc, argv);
        if (options.version) {
            std::cout << "chatctl " << CHATD_VERSION << '\n';
            return exit_status::ok;
        }
        if (options.help) {
            print_help(std::cout);
            return exit_status::ok;
        }
        if (options.words.empty()) throw general_usage_error("no command given");
        if (options.words[0] == "help")
            return run_help({options.words.begin() + 1, options.words.end()});

        std::size_t taken = 0;
        for (const auto& entry : command_table()) {
            if (const auto length = match_length(entry, options.words); length > taken) {
                chosen = &entry;
                taken = length;
            }
        }
        if (!chosen) {
            const auto members = group_of(options.words[0]);
            if (members.empty())
                throw general_usage_error("unknown command '" + options.words[0] + "'");
            std::cerr << "chatctl: "
                      << (options.words.size() == 1
                              ? "'" + options.words[0] + "' needs a subcommand"
                              : "unknown command '" + options.words[0] + " " + options.words[1] +
                                    "'")
                      << '\n'
                      << group_usage(members) << '\n';
            return exit_status::usage;
        }

        const rpc_request request = chosen->build(
            {options.words.begin() + static_cast<std::ptrdiff_t>(taken), options.words.end()});
        const auto timeout = std::chrono::milliseconds(
            static_cast<std::int64_t>(std::llround(options.timeout_s * 1000)));
        const auto result = call(socket_path(options), request, timeout);
        if (options.json)
            print_json(std::cout, result);
        else
            chosen->show(result, request, std::cout);
        if (!std::cout.flush()) {
            std::cerr << "chatctl: cannot write to standard output\n";
            return exit_status::daemon_error;
        }
        return exit_status::ok;
    } catch (const general_usage_error& error) {
        std::cerr << "chatctl: " << error.what() << '\n'
                  << usage_line << '\n'
                  << "Run 'chatctl help' for the list of commands.\n";
        return exit_status::usage;
    } catch (const usage_error& error) {
        std::cerr << "chatctl: " << error.what() << '\n'
                  << (chosen ? usage_of(*chosen) : std::string(usage_line)) << '\n';
        return exit_status::usage;
    } catch (const connection_error& error) {
        std::cerr << "chatctl: " << error.what() << '\n';
        return exit_status::no_connection;
    } catch (const daemon_error& error) {
        std::cerr << "chatctl: " << error.what();
        if (!error.reason.empty()) std::cerr << " (" << error.reason << ')';
        std::cerr << '\n';
        return exit_status::daemon_error;
    } catch (const std::exception& error) {
        std::cerr << "chatctl: " << error.what() << '\n';
        return exit_status::daemon_error;
    }
}

}  // namespace
}  // namespace chatd::ctl

int main(int argc, char** argv) {
    return static_cast<int>(chatd::ctl::run(argc, argv));
}
