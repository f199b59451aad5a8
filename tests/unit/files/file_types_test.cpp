#include "files/file_types.hpp"

#include <catch2/catch.hpp>

using namespace chatd;
using namespace std::literals;
using files::identify;

namespace {

// The MIME type identify gives, "image:" before it for an image; "refused" for nullopt.
std::string verdict(std::string_view filename, std::string_view bytes) {
    auto type = identify(filename, bytes);
    if (!type) return "refused";
    return (type->kind == "image" ? "image:" : "") + type->mime + (type->pdf ? " (pdf)" : "");
}

}  // namespace

TEST_CASE("images are known by their magic bytes, whatever their name", "[files]") {
    CHECK(verdict("a.png", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"sv) == "image:image/png");
    CHECK(verdict("photo.jpg", "\xff\xd8\xff\xe0\0\x10JFIF"sv) == "image:image/jpeg");
    CHECK(verdict("a.webp", "RIFF\x24\0\0\0WEBPVP8 "sv) == "image:image/webp");
    CHECK(verdict("a.gif", "GIF87a\x01\0\x01\0"sv) == "image:image/gif");
    CHECK(verdict("a.gif", "GIF89a\x01\0\x01\0"sv) == "image:image/gif");
    // The bytes decide, not the name.
    CHECK(verdict("notes.txt", "\x89PNG\r\n\x1a\n\0\0\0\rIHDR"sv) == "image:image/png");
    CHECK(verdict("no-extension", "GIF89a\x01\0\x01\0"sv) == "image:image/gif");
    // Near misses are not images.
    CHECK(verdict("a.webp", "RIFF\x24\0\0\0WAVEfmt "sv) == "refused");
    CHECK(verdict("a.gif", "GIF88a"sv) == "refused");
    CHECK(verdict("a.png", "\x89PNG"sv) == "refused");
}

TEST_CASE("a .png that holds text is not an image, nor a text file", "[files]") {
    CHECK(verdict("picture.png", "just some text") == "refused");
    CHECK(verdict("picture.svg", "<svg xmlns=\"http://www.w3.org/2000/svg\"/>") == "refused");
    CHECK(verdict("archive.tar.gz", "text") == "refused");
}

TEST_CASE("PDFs are known by %PDF-", "[files]") {
    CHECK(verdict("paper.pdf", "%PDF-1.7\n%\xe2\xe3\xcf\xd3\n") == "application/pdf (pdf)");
    CHECK(verdict("paper.txt", "%PDF-1.4\n") == "application/pdf (pdf)");
    CHECK(verdict("paper.pdf", "not a pdf at all\x80") == "refused");
}

TEST_CASE("text files by extension, or none, when the bytes are UTF-8", "[files]") {
    CHECK(verdict("notes.txt", "hello") == "text/plain");
    CHECK(verdict("README", "hello") == "text/plain");
    CHECK(verdict(".bashrc", "alias ll='ls -l'") == "text/plain");
    CHECK(verdict("server.log", "ok") == "text/plain");
    CHECK(verdict("README.md", "# 标题\n") == "text/markdown");
    CHECK(verdict("x.MARKDOWN", "# t") == "text/markdown");
    CHECK(verdict("data.csv", "a,b\n1,2\n") == "text/csv");
    CHECK(verdict("data.tsv", "a\tb\n") == "text/tab-separated-values");
    CHECK(verdict("data.json", "{}") == "application/json");
    CHECK(verdict("rows.jsonl", "{}\n{}\n") == "application/jsonl");
    CHECK(verdict("ci.yml", "a: 1") == "application/yaml");
    CHECK(verdict("main.PY", "print('hi')") == "text/x-python");
    CHECK(verdict("lib.rs", "fn main() {}") == "text/x-rust");
    CHECK(verdict("app.tsx", "export {}") == "text/x-typescript");
    CHECK(verdict("query.sql", "select 1;") == "application/sql");
    CHECK(verdict("analysis.R", "x <- 1") == "text/x-r");
    CHECK(verdict("dir/sub/main.cpp", "int main() {}") == "text/x-c++");
    CHECK(verdict("empty.txt", "") == "text/plain");
    CHECK(verdict("program.exe", "MZ") == "refused");
    CHECK(verdict("doc.docx", "PK\x03\x04") == "refused");
}

TEST_CASE("a text file must be UTF-8 without NUL; a BOM is fine", "[files]") {
    CHECK(verdict("main.py", "print('caf\xe9')") == "refused");       // Latin-1, not UTF-8
    CHECK(verdict("main.py", "print('\xed\xa0\x80')") == "refused");  // a UTF-16 surrogate
    CHECK(verdict("main.py", "print('caf\xc3") == "refused");         // cut off in a character
    CHECK(verdict("notes.txt", "a\0b"sv) == "refused");
    CHECK(verdict("notes.txt", "\xff\xfeh\0i\0"sv) == "refused");  // UTF-16 with its BOM
    CHECK(verdict("notes.txt", "\xef\xbb\xbfhello, 世界") == "text/plain");
    CHECK(verdict("notes.txt", "\xef\xbb\xbf") == "text/plain");
}
