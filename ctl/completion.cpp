#include "completion.hpp"

#include <algorithm>
#include <cctype>
#include <sstream>
#include <string>
#include <vector>

namespace chatd::ctl {

namespace {

// What the word under the cursor can be, for an option's value or an argument.
enum class completes { nothing, words, files, command_names, providers };

struct completion {
    completes kind = completes::nothing;
    std::string words;  // for completes::words, separated by spaces
};

struct option {
    std::string name;  // "--format"
    bool takes_value = false;
    completion value;
};

// What a synopsis says about a command's command line.
struct shape {
    std::vector<option> options;
    bool takes_arguments = false;
    completion arguments;
};

std::vector<std::string> split(std::string_view text, char separator) {
    std::vector<std::string> parts;
    std::size_t start = 0;
    while (start <= text.size()) {
        const auto end = std::min(text.find(separator, start), text.size());
        if (end > start) parts.emplace_back(text.substr(start, end - start));
        start = end + 1;
    }
    return parts;
}

// A synopsis token without its grouping brackets and repetition dots: "[--days" -> "--days".
std::string bare(std::string_view token) {
    std::string text;
    for (const char c : token)
        if (c != '[' && c != ']' && c != '(' && c != ')') text += c;
    if (text.ends_with("...")) text.resize(text.size() - 3);
    return text;
}

// Placeholders are upper case (ID, TEXT); lower-case words are literal choices.
completion completion_of(const std::string& placeholder) {
    if (placeholder == "FILE" || placeholder == "PATH") return {completes::files, {}};
    if (placeholder == "COMMAND") return {completes::command_names, {}};
    // The daemon owns the provider table: ask it rather than keep a copy here.
    if (placeholder == "PROVIDER") return {completes::providers, {}};
    if (std::any_of(placeholder.begin(), placeholder.end(),
                    [](unsigned char c) { return std::islower(c); })) {
        std::string words = placeholder;
        std::replace(words.begin(), words.end(), '|', ' ');
        return {completes::words, words};
    }
    return {};
}

shape shape_of(std::string_view synopsis) {
    shape result;
    const auto tokens = split(synopsis, ' ');
    for (std::size_t i = 0; i < tokens.size(); ++i) {
        const std::string& token = tokens[i];
        const std::string text = bare(token);
        // "--enable|--disable" and "CODE...|--batch" are alternatives; "csv|txt|json" is one value.
        const auto parts =
            text.find("--") != std::string::npos ? split(text, '|') : std::vector{text};
        const std::size_t first_new_option = result.options.size();
        for (const auto& part : parts) {
            if (part.size() > 1 && part.front() == '-') {
                result.options.push_back({part, false, {}});
            } else if (!part.empty()) {
                if (!result.takes_arguments) result.arguments = completion_of(part);
                result.takes_arguments = true;
            }
        }
        // An option's value follows it inside the same brackets: "[--days D]".
        const bool group_closed = token.ends_with(']') || token.ends_with(')');
        const bool value_follows =
            i + 1 < tokens.size() &&
            std::string_view("-[(").find(tokens[i + 1][0]) == std::string_view::npos;
        if (result.options.size() > first_new_option && !group_closed && value_follows) {
            const auto value = completion_of(bare(tokens[++i]));
            for (auto o = first_new_option; o < result.options.size(); ++o) {
                result.options[o].takes_value = true;
                result.options[o].value = value;
            }
        }
    }
    return result;
}

std::string joined(const std::vector<std::string>& items, std::string_view separator) {
    std::string text;
    for (const auto& item : items) text += (text.empty() ? "" : std::string(separator)) + item;
    return text;
}

std::vector<std::string> names_taking_values(const std::vector<option>& options) {
    std::vector<std::string> names;
    for (const auto& o : options)
        if (o.takes_value) names.push_back(o.name);
    return names;
}

// The shell code that completes the word under the cursor as `what` says.
std::string completing(const completion& what) {
    switch (what.kind) {
        case completes::words:
            return "_chatctl_words \"" + what.words + "\" \"$cur\"; ";
        case completes::files:
            return "_chatctl_files \"$cur\"; ";
        case completes::providers:
            return "_chatctl_providers \"$cur\"; ";
        default:
            return {};
    }
}

// `case $prev in` branches that complete the values of `options`; options whose
// values complete alike share a branch.
void write_value_cases(std::ostream& out, const std::vector<option>& options,
                       std::string_view indent) {
    std::vector<std::pair<std::string, std::vector<std::string>>> branches;
    for (const auto& o : options) {
        if (!o.takes_value) continue;
        const auto action = completing(o.value) + "return ;;";
        auto branch = std::find_if(branches.begin(), branches.end(),
                                   [&](const auto& b) { return b.first == action; });
        if (branch == branches.end()) branch = branches.insert(branches.end(), {action, {}});
        branch->second.push_back(o.name);
    }
    for (const auto& [action, names] : branches)
        out << indent << joined(names, "|") << ") " << action << '\n';
}

// The body of a command's branch in `case $command in`: what its options and
// arguments complete to.
std::string command_branch(const shape& command) {
    std::ostringstream out;
    if (std::any_of(command.options.begin(), command.options.end(),
                    [](const option& o) { return o.takes_value; })) {
        out << "            case $prev in\n";
        write_value_cases(out, command.options, "                ");
        out << "            esac\n";
    }
    std::vector<std::string> names;
    for (const auto& o : command.options) names.push_back(o.name);
    if (!names.empty()) out << "            options=\"" << joined(names, " ") << "\"\n";
    switch (command.arguments.kind) {
        case completes::words:
            out << "            arguments=words words=\"" << command.arguments.words << "\"\n";
            break;
        case completes::files:
            out << "            arguments=files\n";
            break;
        case completes::command_names:
            out << "            arguments=commands\n";
            break;
        case completes::providers:  // only ever an option's value
            [[fallthrough]];
        case completes::nothing:
            if (command.takes_arguments) out << "            arguments=text\n";
            break;
    }
    return out.str();
}

std::string quoted_case_label(std::string_view words) {
    return words.find(' ') == std::string_view::npos ? std::string(words)
                                                     : "\"" + std::string(words) + "\"";
}

}  // namespace

void write_bash_completion(std::ostream& out, std::string_view global_synopsis,
                           std::span<const completable_command> commands) {
    // The first words in table order, and the second words of each group.
    std::vector<std::string> first_words;
    std::vector<std::pair<std::string, std::vector<std::string>>> groups;
    for (const auto& command : commands) {
        const auto words = split(command.words, ' ');
        if (std::find(first_words.begin(), first_words.end(), words[0]) == first_words.end())
            first_words.push_back(words[0]);
        if (words.size() < 2) continue;
        auto group = std::find_if(groups.begin(), groups.end(),
                                  [&](const auto& g) { return g.first == words[0]; });
        if (group == groups.end()) group = groups.insert(groups.end(), {words[0], {}});
        group->second.push_back(words[1]);
    }
    const auto global = shape_of(global_synopsis);

    out << "# bash completion for chatctl(8), written by `chatctl completion bash`.\n"
           "\n"
           "_chatctl_words() {\n"
           "    mapfile -t COMPREPLY < <(compgen -W \"$1\" -- \"$2\")\n"
           "}\n"
           "\n"
           "_chatctl_providers() {\n"
           "    local socket=() i\n"
           "    for ((i = 1; i < ${#COMP_WORDS[@]} - 1; i++)); do\n"
           "        case ${COMP_WORDS[i]} in -s|--socket) socket=(-s \"${COMP_WORDS[i+1]}\") ;; esac\n"
           "    done\n"
           "    _chatctl_words \"$(\"${COMP_WORDS[0]}\" \"${socket[@]}\" --json keys providers 2>/dev/null |\n"
           "        grep -o '\"id\": *\"[^\"]*\"' | cut -d'\"' -f4)\" \"$1\"\n"
           "}\n"
           "\n"
           "_chatctl_files() {\n"
           "    compopt -o filenames 2>/dev/null\n"
           "    mapfile -t COMPREPLY < <(compgen -f -- \"$1\")\n"
           "}\n"
           "\n"
           "_chatctl_subcommands() {\n"
           "    case $1 in\n";
    for (const auto& [group, subcommands] : groups)
        out << "        " << group << ") echo \"" << joined(subcommands, " ") << "\" ;;\n";
    out << "    esac\n"
           "}\n"
           "\n"
           "_chatctl() {\n"
           "    local cur=${COMP_WORDS[COMP_CWORD]} prev=${COMP_WORDS[COMP_CWORD-1]}\n"
           "    local commands=\""
        << joined(first_words, " ")
        << "\"\n"
           "    local i=1 options='' arguments='' words=''\n"
           "    COMPREPLY=()\n"
           "\n"
           "    # The global options come before the command.\n"
           "    while (( i < COMP_CWORD )); do\n"
           "        case ${COMP_WORDS[i]} in\n";
    if (const auto with_value = names_taking_values(global.options); !with_value.empty())
        out << "            " << joined(with_value, "|") << ") (( i += 2 )) ;;\n";
    out << "            -*) (( i += 1 )) ;;\n"
           "            *) break ;;\n"
           "        esac\n"
           "    done\n"
           "    if (( i >= COMP_CWORD )); then\n"
           "        case $prev in\n";
    write_value_cases(out, global.options, "            ");
    std::vector<std::string> global_names;
    for (const auto& o : global.options) global_names.push_back(o.name);
    out << "        esac\n"
           "        if [[ $cur == -* ]]; then\n"
           "            _chatctl_words \""
        << joined(global_names, " ")
        << "\" \"$cur\"\n"
           "        else\n"
           "            _chatctl_words \"$commands\" \"$cur\"\n"
           "        fi\n"
           "        return\n"
           "    fi\n"
           "\n"
           "    local command=${COMP_WORDS[i]} first=$(( i + 1 ))\n"
           "    local subcommands\n"
           "    subcommands=$(_chatctl_subcommands \"$command\")\n"
           "    if [[ -n $subcommands ]]; then\n"
           "        if (( COMP_CWORD == first )) && [[ $cur != -* ]]; then\n"
           "            _chatctl_words \"$subcommands\" \"$cur\"\n"
           "            return\n"
           "        fi\n"
           "        if [[ \" $subcommands \" == *\" ${COMP_WORDS[first]} \"* ]]; then\n"
           "            command+=\" ${COMP_WORDS[first]}\"\n"
           "            (( first += 1 ))\n"
           "        fi\n"
           "    fi\n"
           "\n"
           "    case $command in\n";
    // Commands that complete alike share a branch.
    std::vector<std::pair<std::string, std::vector<std::string>>> branches;
    for (const auto& command : commands) {
        const auto body = command_branch(shape_of(command.synopsis));
        auto branch = std::find_if(branches.begin(), branches.end(),
                                   [&](const auto& b) { return b.first == body; });
        if (branch == branches.end()) branch = branches.insert(branches.end(), {body, {}});
        branch->second.push_back(quoted_case_label(command.words));
    }
    for (const auto& [body, labels] : branches)
        out << "        " << joined(labels, "|") << ")\n" << body << "            ;;\n";
    out << "        *) return ;;\n"
           "    esac\n"
           "\n"
           "    # Options are offered after a dash, or at once when there are no arguments.\n"
           "    if [[ $cur == -* || -z $arguments ]]; then\n"
           "        _chatctl_words \"$options\" \"$cur\"\n"
           "    elif [[ $arguments == files ]]; then\n"
           "        _chatctl_files \"$cur\"\n"
           "    elif [[ $arguments == words ]]; then\n"
           "        _chatctl_words \"$words\" \"$cur\"\n"
           "    elif [[ $arguments == commands ]]; then\n"
           "        if (( COMP_CWORD == first )); then\n"
           "            _chatctl_words \"$commands\" \"$cur\"\n"
           "        else\n"
           "            _chatctl_words \"$(_chatctl_subcommands \"${COMP_WORDS[first]}\")\" "
           "\"$cur\"\n"
           "        fi\n"
           "    fi\n"
           "}\n"
           "\n"
           "complete -F _chatctl chatctl\n";
}

}  // namespace chatd::ctl
