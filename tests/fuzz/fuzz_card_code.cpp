// Card codes as users type them: whatever normalise_card_code accepts is 16 characters of
// Crockford base32, a fixed point of normalising, and survives being formatted and typed back.
#include <string>

#include "billing/cards.hpp"
#include "fuzz_check.hpp"

using namespace chatd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto input = fuzz::as_text(data, size);
    auto code = billing::normalise_card_code(input);
    if (!code) return 0;
    FUZZ_CHECK(code->size() == 16);
    for (char c : *code) FUZZ_CHECK(std::string_view("0123456789ABCDEFGHJKMNPQRSTVWXYZ").find(c) != std::string_view::npos);
    FUZZ_CHECK(billing::normalise_card_code(*code) == code);
    auto shown = billing::format_card_code(*code);
    FUZZ_CHECK(shown.size() == 19);
    FUZZ_CHECK(billing::normalise_card_code(shown) == code);
    std::string lower;
    for (char c : shown) lower += static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    FUZZ_CHECK(billing::normalise_card_code(lower) == code);
    return 0;
}
