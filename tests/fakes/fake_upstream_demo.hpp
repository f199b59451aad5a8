// `make demo`'s answers: what a visitor sees before the operator has a real key. They show the
// product's rendering (markdown, a table, code, math) in the question's language, and change
// with the question so that a demo conversation does not repeat itself.
#pragma once

#include <string>
#include <string_view>

namespace chatd::fake {

// Chinese when the question has any CJK character, English otherwise; one of several answers
// picked by the question's text.
std::string demo_answer(std::string_view question);

}  // namespace chatd::fake
