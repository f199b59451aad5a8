#include <boost/program_options.hpp>
#include <chrono>
#include <cmath>
#include <cstdlib>
#include <iostream>
#include <optional>
#include <sstream>

#include "client.hpp"
#include "commands.hpp"
#include "completion.hpp"
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
// The options parse_global_options takes, as the completion script reads them.
constexpr std::string_view global_synopsis =
    "[-s|--socket PATH] [--json] [--timeout SECONDS] [-h|--help] [--version]";

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

// What help, the command list and the completion script show of a command.
struct described_command {
    std::string_view words;
    std::string_view synopsis;
    std::string_view help;
    std::string_view method;  // empty when it calls no fixed method
};

// Commands chatctl answers itself, without the daemon.
struct local_command {
    std::string_view words;
    std::string_view synopsis;
    std::string_view help;
    exit_status (*run)(const std::vector<std::string>& args);
};

exit_status run_help(const std::vector<std::string>& topic);
exit_status run_completion(const std::vector<std::string>& args);

const local_command local_commands[] = {
    {"help", "[--list|--methods|COMMAND]",
     "Show the help of a command or a group of commands, or list the commands.\n"
     "--list prints every command, one per line; --methods prints each command that calls\n"
     "a fixed RPC method and that method, separated by a tab.",
     run_help},
    {"completion", "bash",
     "Print a bash completion script for chatctl.\n"
     "Try it with 'source <(chatctl completion bash)'; installed, it lives in\n"
     "share/bash-completion/completions/chatctl.",
     run_completion},
};

described_command describe(const command& entry) {
    return {entry.words, entry.synopsis, entry.help, entry.method};
}

std::vector<described_command> all_commands() {
    std::vector<described_command> described;
    for (const auto& entry : command_table()) described.push_back(describe(entry));
    for (const auto& entry : local_commands)
        described.push_back({entry.words, entry.synopsis, entry.help, {}});
    return described;
}

// "keys add [--base-url URL] ... KEY..."
std::string words_and_synopsis(const described_command& entry) {
    std::string line(entry.words);
    if (!entry.synopsis.empty()) line += " " + std::string(entry.synopsis);
    return line;
}

std::string usage_of(const described_command& entry) {
    return "usage: chatctl " + words_and_synopsis(entry);
}

std::string_view summary_of(const described_command& entry) {
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
    for (const auto& entry : all_commands())
        out << "  " << words_and_synopsis(entry) << "\n      " << summary_of(entry) << '\n';
    out << "\nExit status: 0 success, 1 the daemon returned an error, 2 usage error,\n"
           "3 cannot connect to the daemon.\n";
}

// How many leading `given` words the command's words take, or 0 when they do not match.
std::size_t match_length(std::string_view words, const std::vector<std::string>& given) {
    std::istringstream expected{std::string(words)};
    std::size_t matched = 0;
    for (std::string word; expected >> word; ++matched)
        if (matched >= given.size() || given[matched] != word) return 0;
    return matched;
}

std::string_view group_name(std::string_view words) {
    return words.substr(0, words.find(' '));
}

// Commands whose first word is `group`, such as every "keys ..." command.
std::vector<described_command> group_of(std::string_view group) {
    std::vector<described_command> members;
    for (const auto& entry : all_commands())
        if (group_name(entry.words) == group) members.push_back(entry);
    return members;
}

std::string group_usage(const std::vector<described_command>& members) {
    std::string text;
    for (const auto& member : members)
        text +=
            (text.empty() ? "usage: chatctl " : "\n       chatctl ") + words_and_synopsis(member);
    return text;
}

exit_status run_help(const std::vector<std::string>& topic) {
    if (topic.empty()) {
        print_help(std::cout);
        return exit_status::ok;
    }
    if (topic.size() == 1 && topic[0] == "--list") {
        for (const auto& entry : all_commands()) std::cout << entry.words << '\n';
        return exit_status::ok;
    }
    if (topic.size() == 1 && topic[0] == "--methods") {
        for (const auto& entry : all_commands())
            if (!entry.method.empty()) std::cout << entry.words << '\t' << entry.method << '\n';
        return exit_status::ok;
    }
    for (const auto& entry : all_commands()) {
        if (match_length(entry.words, topic) != topic.size()) continue;
        std::cout << usage_of(entry) << "\n\n" << entry.help << '\n';
        if (!entry.method.empty()) std::cout << "Calls " << entry.method << ".\n";
        // `help logs` also points at `logs show`.
        if (topic.size() == 1)
            for (const auto& member : group_of(topic[0]))
                if (member.words != entry.words)
                    std::cout << "\nSee also: chatctl " << words_and_synopsis(member) << '\n';
        return exit_status::ok;
    }
    if (const auto members = group_of(topic[0]); topic.size() == 1 && !members.empty()) {
        for (const auto& member : members)
            std::cout << usage_of(member) << "\n    " << summary_of(member) << '\n';
        return exit_status::ok;
    }
    std::string asked = topic[0];
    for (std::size_t i = 1; i < topic.size(); ++i) asked += " " + topic[i];
    std::cerr << "chatctl: no command '" << asked << "'\n" << usage_line << '\n';
    return exit_status::usage;
}

exit_status run_completion(const std::vector<std::string>& args) {
    if (args.size() != 1 || args[0] != "bash") {
        std::cerr << "chatctl: completion is written for bash only\n"
                  << "usage: chatctl completion bash\n";
        return exit_status::usage;
    }
    std::vector<completable_command> commands;
    for (const auto& entry : all_commands()) commands.push_back({entry.words, entry.synopsis});
    write_bash_completion(std::cout, global_synopsis, commands);
    return exit_status::ok;
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
        for (const auto& entry : local_commands)
            if (options.words[0] == entry.words)
                return entry.run({options.words.begin() + 1, options.words.end()});

        std::size_t taken = 0;
        for (const auto& entry : command_table()) {
            if (const auto length = match_length(entry.words, options.words); length > taken) {
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
            chosen->method,
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
                  << (chosen ? usage_of(describe(*chosen)) : std::string(usage_line)) << '\n';
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
