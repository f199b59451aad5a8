// Uploads' multipart/form-data. Input: the Content-Type header's value, a newline, the body.
// Only app_error("invalid_params") may escape; what is accepted has at most max_form_parts parts,
// each named, its body a view inside the body received and its file name without a directory.
#include "files/multipart.hpp"
#include "fuzz_check.hpp"
#include "util/app_error.hpp"

using namespace chatd;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    auto rest = fuzz::as_text(data, size);
    auto content_type = fuzz::take_until(rest, "\n");
    auto body = rest;
    try {
        auto parts = files::parse_multipart(content_type, body);
        FUZZ_CHECK(parts.size() <= files::max_form_parts);
        for (const auto& p : parts) {
            FUZZ_CHECK(!p.name.empty());
            FUZZ_CHECK(fuzz::within(p.body, body));
            FUZZ_CHECK(p.filename.find('/') == std::string::npos && p.filename.find('\\') == std::string::npos);
        }
    } catch (const app_error& e) {
        FUZZ_CHECK(e.reason == "invalid_params");
    }
    return 0;
}
