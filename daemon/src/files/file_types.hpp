#pragma once
// What an upload is (CONTRACT §10): one of the images a model can see, a PDF, or a text file a
// model can read. Images and PDFs are known by their bytes, never by their name; text files by
// their extension and by being UTF-8.
#include <optional>
#include <string>
#include <string_view>

namespace chatd::files {

struct file_type {
    std::string mime;  // "image/png", "application/pdf", "text/markdown", …
    std::string kind;  // "image" or "file"
    bool pdf = false;  // its text is to be extracted (pdf_text.hpp)
};

// The type of an upload named `filename` holding `bytes`; nullopt for any other kind of file
// (the caller answers 415 unsupported_type). PNG, JPEG, WebP and GIF by their magic bytes
// whatever the name; PDF by "%PDF-"; text by a known extension (or none) when the bytes are
// UTF-8 (a BOM is fine) without NUL.
std::optional<file_type> identify(std::string_view filename, std::string_view bytes);

}  // namespace chatd::files
