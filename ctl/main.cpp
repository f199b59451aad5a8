#include <algorithm>
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
#include "messages.hpp"
#include "migrate.hpp"
#include "output.hpp"
#include "util/option_error.hpp"
#include "util/text_wrap.hpp"

namespace chatd::ctl {
namespace {

namespace po = boost::program_options;

constexpr const char* default_socket = "/run/chatd/admin.sock";
constexpr double default_timeout_s = 30;
// A week: far beyond any backup, and far from overflowing the millisecond count.
constexpr double max_timeout_s = 604800;
// What `usage: chatctl ` is followed by.
constexpr std::string_view global_usage = "[-s PATH] [--json] [--timeout SECONDS] COMMAND [ARG...]";
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
    } catch (po::error& error) {
        throw general_usage_error(option_error_text(error));
    }
    if (given.count("socket")) parsed.socket = given["socket"].as<std::string>();
    if (!std::isfinite(parsed.timeout_s) || parsed.timeout_s <= 0 ||
        parsed.timeout_s > max_timeout_s)
        throw general_usage_error(tr("--timeout takes a number of seconds, above 0 and at most 604800"));
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
    {"migrate", "--to postgres URL --from FILE",
     "Copy a stopped chatd's SQLite database FILE (its chatd.db) into the empty PostgreSQL\n"
     "database at URL, keeping every id, in one transaction: the row counts of both and a\n"
     "ledger check are printed before it commits. A database that is not empty is refused\n"
     "and left untouched. Runs without the daemon (it starts 'chatd migrate').",
     run_migrate},
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

// A command line wrapped with its continuation lines hanging under the first argument, as
// man pages print a synopsis; a very long lead hangs less, so the arguments keep some room.
// An option and its value ("[--name TEXT]") stay on one line.
std::string hanging(std::string_view lead, std::string_view rest, std::size_t width, std::size_t lead_indent = 0) {
    constexpr char glue = '\x01';
    std::string glued(rest);
    int depth = 0;
    for (auto& c : glued) {
        if (c == '[' || c == '(') ++depth;
        if (c == ']' || c == ')') --depth;
        if (c == ' ' && depth > 0) c = glue;
    }
    std::size_t longest_word = 0;
    for (std::size_t start = 0, end; start < rest.size(); start = end + 1) {
        end = std::min(rest.find(' ', start), rest.size());
        longest_word = std::max(longest_word, display_width(rest.substr(start, end - start)));
    }
    const std::size_t indent =
        std::min({lead_indent + display_width(lead), width / 2, width - std::min(width, longest_word)});
    const std::string first_prefix = std::string(lead_indent, ' ') + std::string(lead);
    std::string text = wrap(glued, width, first_prefix, indent);
    // A group wider than a whole line is broken after all.
    if (text.find(glue) != std::string::npos && widest_line(text) > width) return wrap(rest, width, first_prefix, indent);
    std::replace(text.begin(), text.end(), glue, ' ');
    return text;
}

std::string usage_of(const described_command& entry, std::size_t width) {
    return hanging("usage: chatctl " + std::string(entry.words) + " ", entry.synopsis, width);
}

std::string general_usage(std::size_t width) {
    return hanging("usage: chatctl ", global_usage, width);
}

// The help's first sentence, which may run over several of its lines.
std::string_view summary_of(const described_command& entry) {
    const std::string_view help = entry.help;
    for (std::size_t dot = help.find('.'); dot != std::string_view::npos; dot = help.find('.', dot + 1))
        if (dot + 1 == help.size() || help[dot + 1] == ' ' || help[dot + 1] == '\n') return help.substr(0, dot + 1);
    return help;
}

// Where the descriptions of the options start in `chatctl --help`.
constexpr std::size_t option_column = 22;
// How far a command's summary is indented under it.
constexpr std::size_t summary_indent = 6;

void print_help(std::ostream& out) {
    const std::size_t width = terminal_width();
    std::ostringstream default_timeout;
    default_timeout << default_timeout_s;
    auto option = [&](std::string_view term, const std::string& description) {
        return wrap_entry("  " + std::string(term), description, width, option_column);
    };
    out << general_usage(width) << '\n'
        << wrap("Administer a running chatd through its admin socket.", width) << '\n'
        << "Options:\n"
        << option("-s, --socket PATH", "admin socket (default: $CHATD_SOCKET, else " + std::string(default_socket) + ")")
        << option("--json", "print the daemon's result as JSON; times stay Unix seconds")
        << option("--timeout SECONDS", "give up after this long (default: " + default_timeout.str() + ")")
        << option("-h, --help", "show this help") << option("--version", "show the version") << "\nCommands:\n";
    for (const auto& entry : all_commands())
        out << hanging(std::string(entry.words) + " ", entry.synopsis, width, 2)
            << wrap(summary_of(entry), width, std::string(summary_indent, ' '), summary_indent);
    out << '\n'
        << wrap("Times are shown in the local time zone ($TZ). Messages are in Chinese when the locale "
                "($LC_ALL, $LC_MESSAGES, $LANG) is Chinese, else in English. Help is wrapped to the "
                "terminal's width, else to $COLUMNS, else to 80 columns.",
                width)
        << '\n'
        << wrap("Exit status: 0 success, 1 the daemon returned an error (or a key tested by 'keys test' "
                "fails), 2 usage error, 3 cannot connect to the daemon.",
                width);
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

std::string group_usage(const std::vector<described_command>& members, std::size_t width) {
    std::string text;
    for (const auto& member : members)
        text += hanging(std::string(text.empty() ? "usage: " : "       ") + "chatctl " +
                            std::string(member.words) + " ",
                        member.synopsis, width);
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
    const std::size_t width = terminal_width();
    for (const auto& entry : all_commands()) {
        if (match_length(entry.words, topic) != topic.size()) continue;
        std::cout << usage_of(entry, width) << '\n' << wrap(entry.help, width);
        if (!entry.method.empty()) std::cout << "Calls " << entry.method << ".\n";
        // `help logs` also points at `logs show`.
        if (topic.size() == 1)
            for (const auto& member : group_of(topic[0]))
                if (member.words != entry.words)
                    std::cout << '\n'
                              << hanging("See also: chatctl " + std::string(member.words) + " ", member.synopsis,
                                         width);
        return exit_status::ok;
    }
    if (const auto members = group_of(topic[0]); topic.size() == 1 && !members.empty()) {
        for (const auto& member : members)
            std::cout << usage_of(member, width) << wrap(summary_of(member), width, "    ", 4);
        return exit_status::ok;
    }
    std::string asked = topic[0];
    for (std::size_t i = 1; i < topic.size(); ++i) asked += " " + topic[i];
    std::cerr << "chatctl: " << say("no command '{}'", {asked}) << '\n' << general_usage(width);
    return exit_status::usage;
}

exit_status run_completion(const std::vector<std::string>& args) {
    if (args.size() != 1 || args[0] != "bash") {
        std::cerr << "chatctl: " << tr("completion is written for bash only") << '\n'
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
        if (options.words.empty()) throw general_usage_error(tr("no command given"));
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
                throw general_usage_error(say("unknown command '{}'", {options.words[0]}));
            std::cerr << "chatctl: "
                      << (options.words.size() == 1
                              ? say("'{}' needs a subcommand", {options.words[0]})
                              : say("unknown command '{}'", {options.words[0] + " " + options.words[1]}))
                      << '\n'
                      << group_usage(members, terminal_width());
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
            std::cerr << "chatctl: " << tr("cannot write to standard output") << '\n';
            return exit_status::daemon_error;
        }
        // A command may answer "no" in its result, as `keys test` does for a failing key.
        if (chosen->failure) {
            if (auto why = chosen->failure(result); !why.empty()) {
                std::cerr << "chatctl: " << why << '\n';
                return exit_status::daemon_error;
            }
        }
        return exit_status::ok;
    } catch (const general_usage_error& error) {
        std::cerr << "chatctl: " << tr(error.what()) << '\n'
                  << general_usage(terminal_width()) << tr("Run 'chatctl help' for the list of commands.")
                  << '\n';
        return exit_status::usage;
    } catch (const usage_error& error) {
        std::cerr << "chatctl: " << tr(error.what()) << '\n'
                  << (chosen ? usage_of(describe(*chosen), terminal_width()) : general_usage(terminal_width()));
        return exit_status::usage;
    } catch (const connection_error& error) {
        std::cerr << "chatctl: " << tr(error.what()) << '\n';
        return exit_status::no_connection;
    } catch (const daemon_error& error) {
        std::cerr << "chatctl: " << tr(daemon_message(error.what(), chinese()));
        if (!error.reason.empty()) std::cerr << " (" << error.reason << ')';
        std::cerr << '\n';
        return exit_status::daemon_error;
    } catch (const std::exception& error) {
        std::cerr << "chatctl: " << tr(error.what()) << '\n';
        return exit_status::daemon_error;
    }
}

}  // namespace
}  // namespace chatd::ctl

int main(int argc, char** argv) {
    return static_cast<int>(chatd::ctl::run(argc, argv));
}
