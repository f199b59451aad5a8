#pragma once

#include <ostream>
#include <span>
#include <string_view>

namespace chatd::ctl {

// A command as the completion script sees it: its words and the synopsis whose
// options, option values and arguments it completes.
struct completable_command {
    std::string_view words;     // "cards generate"
    std::string_view synopsis;  // "--count N ... [--format csv|txt|json]"
};

// Writes a bash script that completes chatctl's commands and, read from each
// synopsis, their options and values: the words of `csv|txt|json`, file names for
// FILE and PATH, command names for COMMAND, nothing for other placeholders.
// `global_synopsis` holds the options that go before the command.
void write_bash_completion(std::ostream& out, std::string_view global_synopsis,
                           std::span<const completable_command> commands);

}  // namespace chatd::ctl
