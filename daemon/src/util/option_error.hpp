#pragma once
// The message of a Boost.Program_options error, shared by chatd's configuration and chatctl's
// arguments (chatctl includes this header alone, none of the daemon's libraries).
#include <boost/program_options/errors.hpp>

#include <string>

namespace chatd {

namespace detail {
// Reaches the protected placeholder values of a Program_options error; never constructed.
struct option_error_access : boost::program_options::error_with_option_name {
    static auto& substitutions(boost::program_options::error_with_option_name& e) {
        return e.*(&option_error_access::m_substitutions);
    }
};
}  // namespace detail

// Boost's what() replaces a placeholder such as %value% until none is left, so a value that
// itself contains one would never finish being reported: the program would hang on a bad
// argument or configuration line. The values' '%' are hidden (in the error itself, which keeps
// its own type and so its own wording) while Boost fills in its template.
inline std::string option_error_text(boost::program_options::error& error) {
    auto* named = dynamic_cast<boost::program_options::error_with_option_name*>(&error);
    if (!named) return error.what();
    constexpr char stand_in = '\x01';  // no Boost template contains it
    for (auto& [placeholder, value] : detail::option_error_access::substitutions(*named))
        for (auto& c : value)
            if (c == '%') c = stand_in;
    std::string text = named->what();
    for (auto& c : text)
        if (c == stand_in) c = '%';
    return text;
}

}  // namespace chatd
