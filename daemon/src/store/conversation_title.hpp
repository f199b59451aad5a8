#pragma once
#include <string>

namespace chatd::store {

// A new conversation's title from its first question: one line, at most 30 characters and
// an ellipsis when cut.
std::string title_from(const std::string& content);

}  // namespace chatd::store
