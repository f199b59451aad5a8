#pragma once

#include <istream>
#include <string>
#include <vector>

namespace chatd::ctl {

// Everything left on `in`, with trailing line breaks removed.
std::string read_all(std::istream& in);

// One item per line; surrounding whitespace and blank lines are ignored.
std::vector<std::string> read_lines(std::istream& in);

// A new password for `username`: asked twice on the terminal with echo off, or
// taken from the first line of a non-terminal stdin (an identical second line is
// allowed, so `printf 'pw\npw\n'` works the same as an interactive prompt).
// Throws usage_error on a mismatch or an empty password.
std::string read_new_password(const std::string& username);

}  // namespace chatd::ctl
