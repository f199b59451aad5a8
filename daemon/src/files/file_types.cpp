#include "files/file_types.hpp"

#include <algorithm>
#include <array>

#include "util/text.hpp"

namespace chatd::files {

namespace {

struct text_extension {
    std::string_view extension;  // lowercase, without the dot
    std::string_view mime;
};

// Text a model can read. Registered types where they exist (RFC 7763 Markdown, RFC 9239
// JavaScript, RFC 9512 YAML, RFC 6922 SQL), the common x- names for source code otherwise.
constexpr std::array text_extensions = std::to_array<text_extension>({
    {"txt", "text/plain"},
    {"log", "text/plain"},
    {"md", "text/markdown"},
    {"markdown", "text/markdown"},
    {"csv", "text/csv"},
    {"tsv", "text/tab-separated-values"},
    {"json", "application/json"},
    {"jsonl", "application/jsonl"},
    {"yaml", "application/yaml"},
    {"yml", "application/yaml"},
    {"toml", "application/toml"},
    {"ini", "text/plain"},
    {"xml", "application/xml"},
    {"html", "text/html"},
    {"css", "text/css"},
    {"js", "text/javascript"},
    {"jsx", "text/javascript"},
    {"ts", "text/x-typescript"},
    {"tsx", "text/x-typescript"},
    {"py", "text/x-python"},
    {"c", "text/x-c"},
    {"h", "text/x-c"},
    {"cpp", "text/x-c++"},
    {"hpp", "text/x-c++"},
    {"cc", "text/x-c++"},
    {"java", "text/x-java"},
    {"go", "text/x-go"},
    {"rs", "text/x-rust"},
    {"rb", "text/x-ruby"},
    {"php", "text/x-php"},
    {"sh", "text/x-shellscript"},
    {"sql", "application/sql"},
    {"kt", "text/x-kotlin"},
    {"swift", "text/x-swift"},
    {"lua", "text/x-lua"},
    {"r", "text/x-r"},
    {"m", "text/x-objcsrc"},
});

// The lowercase extension of the name's last component: "" for none ("Makefile", ".bashrc").
std::string extension_of(std::string_view filename) {
    auto slash = filename.find_last_of("/\\");
    if (slash != std::string_view::npos) filename.remove_prefix(slash + 1);
    auto dot = filename.rfind('.');
    if (dot == std::string_view::npos || dot == 0) return {};
    return ascii_lower(filename.substr(dot + 1));
}

std::optional<std::string_view> text_mime(std::string_view filename) {
    auto extension = extension_of(filename);
    if (extension.empty()) return "text/plain";
    auto it = std::find_if(text_extensions.begin(), text_extensions.end(),
                           [&](const text_extension& t) { return t.extension == extension; });
    if (it == text_extensions.end()) return std::nullopt;
    return it->mime;
}

std::optional<std::string_view> image_mime(std::string_view bytes) {
    using namespace std::literals;
    if (bytes.starts_with("\x89PNG\r\n\x1a\n"sv)) return "image/png";
    if (bytes.starts_with("\xff\xd8\xff"sv)) return "image/jpeg";
    if (bytes.size() >= 12 && bytes.starts_with("RIFF"sv) && bytes.substr(8, 4) == "WEBP"sv)
        return "image/webp";
    if (bytes.starts_with("GIF87a"sv) || bytes.starts_with("GIF89a"sv)) return "image/gif";
    return std::nullopt;
}

bool readable_text(std::string_view bytes) {
    if (bytes.starts_with("\xef\xbb\xbf")) bytes.remove_prefix(3);  // the UTF-8 BOM
    return bytes.find('\0') == std::string_view::npos && valid_utf8(bytes);
}

}  // namespace

std::optional<file_type> identify(std::string_view filename, std::string_view bytes) {
    if (auto mime = image_mime(bytes)) return file_type{std::string(*mime), "image"};
    if (bytes.starts_with("%PDF-")) return file_type{"application/pdf", "file", true};
    auto mime = text_mime(filename);
    if (!mime || !readable_text(bytes)) return std::nullopt;
    return file_type{std::string(*mime), "file"};
}

}  // namespace chatd::files
