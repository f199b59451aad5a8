// The payment channels' forms and amounts: a parsed form encodes and parses back to itself, the
// text that gets signed is stable whatever the fields' order, and an amount in yuan that
// parses is whole fen that print and parse back the same.
#include <algorithm>

#include "fuzz_check.hpp"
#include "pay/form.hpp"

using namespace chatd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto text = fuzz::as_text(data, size);
    auto fields = pay::parse_form(text);
    FUZZ_CHECK(pay::parse_form(pay::encode_form(fields)) == fields);
    auto signed_text = pay::sign_text(fields);
    auto reversed = fields;
    std::reverse(reversed.begin(), reversed.end());
    FUZZ_CHECK(pay::sign_text(reversed) == signed_text);
    FUZZ_CHECK(signed_text.find("sign=") != 0 && pay::sign_text(fields, true).size() >= signed_text.size());

    if (auto cents = pay::parse_yuan(text)) {
        FUZZ_CHECK(*cents >= 0 && *cents < 100'000'000'000'000);
        FUZZ_CHECK(pay::parse_yuan(pay::yuan(*cents)) == cents);
    }
    return 0;
}
