#include "files/multipart.hpp"

#include <catch2/catch.hpp>

#include "util/app_error.hpp"

using namespace chatd;
using namespace std::literals;
using files::parse_multipart;

namespace {

constexpr auto form = "multipart/form-data; boundary=XyZ"sv;

// The reason and message of the app_error parsing throws; empty when it throws none.
std::pair<std::string, std::string> refusal(std::string_view content_type, std::string_view body) {
    try {
        parse_multipart(content_type, body);
    } catch (const app_error& e) {
        return {e.reason, e.what()};
    }
    return {};
}

std::string file_part(std::string_view boundary, std::string_view name, std::string_view body) {
    return "--" + std::string(boundary) + "\r\nContent-Disposition: form-data; name=\"" +
           std::string(name) + "\"\r\n\r\n" + std::string(body) + "\r\n";
}

}  // namespace

TEST_CASE("a browser's upload: a field and a file, preamble and epilogue ignored", "[files]") {
    std::string body =
        "This is the preamble.\r\n"
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"note\"\r\n"
        "\r\n"
        "hello\r\n"
        "--XyZ\r\n"
        "content-disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n"
        "Content-Type: text/plain\r\n"
        "\r\n"
        "line one\r\nline two\r\n"
        "--XyZ--\r\n"
        "This is the epilogue.";
    auto parts = parse_multipart(form, body);
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].name == "note");
    CHECK(parts[0].filename.empty());
    CHECK(parts[0].content_type.empty());
    CHECK(parts[0].body == "hello");
    CHECK(parts[1].name == "file");
    CHECK(parts[1].filename == "notes.txt");
    CHECK(parts[1].content_type == "text/plain");
    CHECK(parts[1].body == "line one\r\nline two");
    // Views into the input, not copies.
    CHECK(parts[1].body.data() >= body.data());
    CHECK(parts[1].body.data() + parts[1].body.size() <= body.data() + body.size());
}

TEST_CASE("the boundary parameter: quoted or not, any case, at most 70 characters", "[files]") {
    std::string body = file_part("a b:c", "file", "x") + "--a b:c--";
    CHECK(parse_multipart("multipart/form-data; boundary=\"a b:c\"", body).at(0).body == "x");
    body = file_part("----WebKitFormBoundary7MA4YWxkTrZu0gW", "file", "x") +
           "------WebKitFormBoundary7MA4YWxkTrZu0gW--";
    CHECK(parse_multipart(
              "Multipart/Form-Data;BOUNDARY=----WebKitFormBoundary7MA4YWxkTrZu0gW; charset=utf-8",
              body)
              .at(0)
              .body == "x");

    std::string longest(70, 'b');
    body = file_part(longest, "file", "x") + "--" + longest + "--";
    CHECK(parse_multipart("multipart/form-data; boundary=" + longest, body).size() == 1);
    std::string too_long(71, 'b');
    body = file_part(too_long, "file", "x") + "--" + too_long + "--";
    CHECK(refusal("multipart/form-data; boundary=" + too_long, body).first == "invalid_params");
    CHECK(refusal("multipart/form-data; boundary=\"ends in space \"", body).first ==
          "invalid_params");
    CHECK(refusal("multipart/form-data; boundary=\"\"", body).first == "invalid_params");
}

TEST_CASE("without a boundary or as another media type, the form is refused", "[files]") {
    std::string body = file_part("XyZ", "file", "x") + "--XyZ--";
    auto [reason, message] = refusal("multipart/form-data", body);
    CHECK(reason == "invalid_params");
    CHECK_THAT(message, Catch::Contains("boundary"));
    CHECK(refusal("application/json; boundary=XyZ", body).first == "invalid_params");
    CHECK(refusal("", body).first == "invalid_params");
    CHECK(refusal("multipart/form-data; boundary=\"XyZ", body).first == "invalid_params");
    // The header's boundary is nowhere in the body.
    CHECK_THAT(refusal("multipart/form-data; boundary=Other", body).second,
               Catch::Contains("no boundary line"));
}

TEST_CASE("filenames: quoted-string escapes, RFC 5987 filename* first, no directory", "[files]") {
    auto filename_of = [](std::string_view disposition) {
        std::string body =
            "--XyZ\r\nContent-Disposition: " + std::string(disposition) + "\r\n\r\nx\r\n--XyZ--";
        return parse_multipart(form, body).at(0).filename;
    };
    CHECK(filename_of(R"(form-data; name="file"; filename="say \"hi\".txt")") == "say \"hi\".txt");
    CHECK(filename_of(R"(form-data; name="file"; filename="semi;colon.txt")") == "semi;colon.txt");
    CHECK(filename_of(R"(form-data; name="file"; filename=plain.md)") == "plain.md");
    CHECK(
        filename_of(
            R"(form-data; name="file"; filename="ascii.txt"; filename*=UTF-8''%E7%AC%94%E8%AE%B0.md)") ==
        "笔记.md");
    CHECK(filename_of(
              R"(form-data; filename*=utf-8'zh'%E7%AC%94.txt; name="file"; filename="b.txt")") ==
          "笔.txt");
    CHECK(filename_of(R"(form-data; name="file"; filename*=ISO-8859-1''caf%E9.txt)") == "café.txt");
    // An unreadable filename* falls back to filename.
    CHECK(filename_of(R"(form-data; name="file"; filename="b.txt"; filename*=UTF-8''%E7%AC.txt)") ==
          "b.txt");
    CHECK(filename_of(R"(form-data; name="file"; filename="b.txt"; filename*=UTF-8''%zz.txt)") ==
          "b.txt");
    CHECK(filename_of(R"(form-data; name="file"; filename="b.txt"; filename*=KOI8-R''%C1.txt)") ==
          "b.txt");
    // RFC 7578 §4.2: the directory part is not the receiver's business.
    CHECK(filename_of(R"(form-data; name="file"; filename="../../etc/passwd")") == "passwd");
    CHECK(filename_of(R"(form-data; name="file"; filename*=UTF-8''..%2F..%2Fx.txt)") == "x.txt");
    CHECK(filename_of(R"(form-data; name="file"; filename="C:\\Users\\me\\a.txt")") == "a.txt");
}

TEST_CASE("a binary body keeps every byte, CRLF and dashes included", "[files]") {
    std::string binary =
        "\x89PNG\r\n\x1a\n"s + "\0\r\n--\r\n--Xy\r\n--XyZa"s + "\r\n-- XyZ\r\n" + "\r\n";
    binary += std::string(1, '\0') + "\xff\xfe\r";
    std::string body =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n"
        "Content-Type: image/png\r\n\r\n" +
        binary + "\r\n--XyZ--";
    // "\r\n--XyZa" would be a delimiter followed by junk: refused, as RFC 2046 forbids it.
    CHECK(refusal(form, body).first == "invalid_params");

    binary = "\x89PNG\r\n\x1a\n"s + "\0\r\n--\r\n--Xy\r\n-XyZ\r\n--xyz"s + "\r\n-- XyZ--\r\n" +
             "\xff\xfe\r";
    body =
        "--XyZ\r\n"
        "Content-Disposition: form-data; name=\"file\"; filename=\"a.png\"\r\n\r\n" +
        binary + "\r\n--XyZ--";
    auto parts = parse_multipart(form, body);
    REQUIRE(parts.size() == 1);
    CHECK(parts[0].body == binary);
    CHECK(parts[0].body.size() == binary.size());
}

TEST_CASE("empty bodies, transport padding and a form without parts", "[files]") {
    auto parts =
        parse_multipart(form,
                        "--XyZ  \r\nContent-Disposition: form-data; name=\"a\"\r\n\r\n\r\n"
                        "--XyZ\t\r\nContent-Disposition: form-data; name=\"b\"\r\n\r\n\r\n--XyZ--");
    REQUIRE(parts.size() == 2);
    CHECK(parts[0].body.empty());
    CHECK(parts[1].name == "b");
    CHECK(parse_multipart(form, "--XyZ--\r\n").empty());
}

TEST_CASE("a form that never closes is refused", "[files]") {
    std::string part = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\n\r\ncut off here";
    auto [reason, message] = refusal(form, part);
    CHECK(reason == "invalid_params");
    CHECK_THAT(message, Catch::Contains("closing boundary"));
    CHECK(refusal(form, file_part("XyZ", "file", "x") + "--XyZ").first == "invalid_params");
    CHECK(refusal(form, file_part("XyZ", "file", "x")).first == "invalid_params");
    CHECK_THAT(refusal(form, file_part("XyZ", "file", "x") + "--XyZ\r\n").second,
               Catch::Contains("closing boundary"));
    // Bare LF line ends are not line ends.
    CHECK(
        refusal(form, "--XyZ\nContent-Disposition: form-data; name=\"file\"\n\nx\n--XyZ--").first ==
        "invalid_params");
    CHECK(refusal(form,
                  "--XyZ junk\r\nContent-Disposition: form-data; name=\"f\"\r\n\r\nx\r\n--XyZ--")
              .first == "invalid_params");
}

TEST_CASE("more than 16 parts are refused", "[files]") {
    std::string body;
    for (int i = 0; i < 16; ++i) body += file_part("XyZ", "field" + std::to_string(i), "v");
    CHECK(parse_multipart(form, body + "--XyZ--").size() == 16);
    body += file_part("XyZ", "one_too_many", "v");
    auto [reason, message] = refusal(form, body + "--XyZ--");
    CHECK(reason == "invalid_params");
    CHECK_THAT(message, Catch::Contains("16 parts"));
}

TEST_CASE("a part's headers: bounded, and they must name a form-data field", "[files]") {
    std::string huge = "--XyZ\r\nContent-Disposition: form-data; name=\"file\"\r\nX-Padding: " +
                       std::string(files::max_part_header_bytes, 'a') + "\r\n\r\nx\r\n--XyZ--";
    auto [reason, message] = refusal(form, huge);
    CHECK(reason == "invalid_params");
    CHECK_THAT(message, Catch::Contains("longer than"));

    auto with_headers = [](std::string_view headers) {
        return "--XyZ\r\n" + std::string(headers) + "\r\n\r\nx\r\n--XyZ--";
    };
    CHECK(refusal(form, "--XyZ\r\n\r\nx\r\n--XyZ--").first == "invalid_params");
    CHECK(refusal(form, with_headers("Content-Type: text/plain")).first == "invalid_params");
    CHECK(refusal(form, with_headers("Content-Disposition: attachment; name=\"file\"")).first ==
          "invalid_params");
    CHECK(refusal(form, with_headers("Content-Disposition: form-data; filename=\"a.txt\"")).first ==
          "invalid_params");
    // Found by fuzzing: an empty name (name= or name="") is no name either.
    CHECK(refusal(form, with_headers("Content-Disposition: form-data; name=; filename=\"a.txt\"")).first ==
          "invalid_params");
    CHECK(refusal(form, with_headers("Content-Disposition: form-data; name=\"\"")).first == "invalid_params");
    CHECK(refusal(form,
                  with_headers("Content-Disposition: form-data; name=\"file\"\r\nno colon here"))
              .first == "invalid_params");
    CHECK(refusal(form, with_headers("Content-Disposition: form-data; name=\"a\"\r\n"
                                     "Content-Disposition: form-data; name=\"b\""))
              .first == "invalid_params");
    // A folded header still counts (RFC 5322 obsolete folding).
    auto parts =
        parse_multipart(form, with_headers("Content-Disposition: form-data;\r\n name=\"file\""));
    CHECK(parts.at(0).name == "file");
}
