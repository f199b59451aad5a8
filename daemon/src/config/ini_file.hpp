#pragma once
// The INI dialect of chatd.conf(5), read with each setting's line, so that every complaint about
// the file can name the line it is about (Boost.Program_options' own reader forgets them).
#include <istream>
#include <string>
#include <vector>

namespace chatd {

struct ini_setting {
    std::string key;  // "section.name", or "name" before any section line
    std::string value;
    int line = 0;
};

// The settings of `in`, in file order. Throws config_error "FILE:LINE: ..." for a line that is
// neither a setting, a [section] line, a comment nor blank, and for a key set twice (at the
// second line, naming the first).
std::vector<ini_setting> read_ini(std::istream& in, const std::string& file);

}  // namespace chatd
