#include "files/pdf_text.hpp"

#include <openssl/evp.h>
#include <unistd.h>

#include <catch2/catch.hpp>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "util/app_error.hpp"
#include "util/random.hpp"

using namespace chatd;
using files::pdf_text;

namespace {

using page_lines = std::vector<std::string>;

std::string pdf_literal(const std::string& text) {
    std::string out = "(";
    for (char c : text) {
        if (c == '(' || c == ')' || c == '\\') out.push_back('\\');
        out.push_back(c);
    }
    return out + ")";
}

std::string md5(const std::string& data) {
    unsigned char md[EVP_MAX_MD_SIZE];
    unsigned len = 0;
    EVP_Digest(data.data(), data.size(), md, &len, EVP_md5(), nullptr);
    return std::string(reinterpret_cast<char*>(md), len);
}

// RC4, which PDF's standard security handler (revision 2) encrypts with; OpenSSL 3 keeps it in
// the legacy provider only, and it is ten lines.
std::string rc4(const std::string& key, std::string data) {
    unsigned char s[256];
    for (int i = 0; i < 256; ++i) s[i] = static_cast<unsigned char>(i);
    for (int i = 0, j = 0; i < 256; ++i) {
        j = (j + s[i] + static_cast<unsigned char>(key[i % key.size()])) & 255;
        std::swap(s[i], s[j]);
    }
    for (std::size_t n = 0, i = 0, j = 0; n < data.size(); ++n) {
        i = (i + 1) & 255;
        j = (j + s[i]) & 255;
        std::swap(s[i], s[j]);
        data[n] = static_cast<char>(data[n] ^ s[(s[i] + s[j]) & 255]);
    }
    return data;
}

std::string hex(const std::string& bytes) {
    static constexpr char digits[] = "0123456789ABCDEF";
    std::string out = "<";
    for (unsigned char c : bytes) out += {digits[c >> 4], digits[c & 15]};
    return out + ">";
}

// 40-bit RC4 encryption (PDF 1.7 §7.6.3, algorithms 1 to 4) with `user_password`; the owner's
// password is fixed. With an empty user password anyone may open the file.
struct pdf_encryption {
    static constexpr unsigned char pad_bytes[32] = {0x28, 0xBF, 0x4E, 0x5E, 0x4E, 0x75, 0x8A, 0x41,
                                                    0x64, 0x00, 0x4E, 0x56, 0xFF, 0xFA, 0x01, 0x08,
                                                    0x2E, 0x2E, 0x00, 0xB6, 0xD0, 0x68, 0x3E, 0x80,
                                                    0x2F, 0x0C, 0xA9, 0xFE, 0x64, 0x53, 0x69, 0x7A};
    std::string id = "0123456789abcdef", owner, user, key;
    static constexpr int permissions = -44;  // no printing, changing or copying

    static std::string padded(const std::string& password) {
        return (password + std::string(reinterpret_cast<const char*>(pad_bytes), 32)).substr(0, 32);
    }
    explicit pdf_encryption(const std::string& user_password) {
        owner = rc4(md5(padded("owner")).substr(0, 5), padded(user_password));
        std::string p(4, '\0');
        for (int i = 0; i < 4; ++i)
            p[i] = static_cast<char>((static_cast<unsigned>(permissions) >> (8 * i)) & 255);
        key = md5(padded(user_password) + owner + p + id).substr(0, 5);
        user = rc4(key, padded(""));
    }
    std::string encrypt(int object, const std::string& data) const {
        std::string salt = {static_cast<char>(object & 255), static_cast<char>((object >> 8) & 255),
                            static_cast<char>((object >> 16) & 255), 0, 0};
        return rc4(md5(key + salt).substr(0, 10), data);
    }
};

// A real PDF, byte by byte with a correct xref table: one page of Helvetica lines per entry.
std::string make_pdf(const std::vector<page_lines>& pages,
                     const pdf_encryption* encryption = nullptr) {
    const int first_page = 4;  // 1 catalog, 2 pages, 3 font, then a page and its contents each
    std::vector<std::string> objects = {"<< /Type /Catalog /Pages 2 0 R >>", "",
                                        "<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica >>"};
    std::string kids;
    for (std::size_t i = 0; i < pages.size(); ++i) {
        int page = first_page + 2 * static_cast<int>(i), contents = page + 1;
        kids += std::to_string(page) + " 0 R ";
        std::string text = "BT /F1 14 Tf 72 760 Td 18 TL ";
        for (const auto& line : pages[i]) text += pdf_literal(line) + " ' ";
        text += "ET";
        if (encryption) text = encryption->encrypt(contents, text);
        objects.push_back(
            "<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 3 0 R "
            ">> >> /Contents " +
            std::to_string(contents) + " 0 R >>");
        objects.push_back("<< /Length " + std::to_string(text.size()) + " >>\nstream\n" + text +
                          "\nendstream");
    }
    objects[1] =
        "<< /Type /Pages /Kids [" + kids + "] /Count " + std::to_string(pages.size()) + " >>";
    std::string trailer_extra;
    if (encryption) {
        objects.push_back("<< /Filter /Standard /V 1 /R 2 /O " + hex(encryption->owner) + " /U " +
                          hex(encryption->user) + " /P " + std::to_string(encryption->permissions) +
                          " >>");
        trailer_extra = " /Encrypt " + std::to_string(objects.size()) + " 0 R /ID [" +
                        hex(encryption->id) + " " + hex(encryption->id) + "]";
    }

    std::string out = "%PDF-1.4\n%\xe2\xe3\xcf\xd3\n";
    std::vector<std::size_t> offsets;
    for (std::size_t n = 0; n < objects.size(); ++n) {
        offsets.push_back(out.size());
        out += std::to_string(n + 1) + " 0 obj\n" + objects[n] + "\nendobj\n";
    }
    std::size_t xref = out.size();
    out += "xref\n0 " + std::to_string(objects.size() + 1) + "\n0000000000 65535 f \n";
    for (auto offset : offsets) {
        char entry[21];
        std::snprintf(entry, sizeof entry, "%010zu 00000 n \n", offset);
        out += entry;
    }
    out += "trailer\n<< /Size " + std::to_string(objects.size() + 1) + " /Root 1 0 R" +
           trailer_extra + " >>\nstartxref\n" + std::to_string(xref) + "\n%%EOF\n";
    return out;
}

std::string refusal(std::string_view bytes) {
    try {
        pdf_text(bytes, 1000);
    } catch (const app_error& e) {
        return e.reason + ": " + e.what();
    }
    return "read";
}

// What the process writes on stderr while `run` runs.
template <class F>
std::string stderr_of(F run) {
    auto path = std::filesystem::temp_directory_path() / ("chatd-stderr-" + random_hex(6));
    std::fflush(stderr);
    int saved = ::dup(2);
    FILE* capture = std::fopen(path.c_str(), "w");
    ::dup2(::fileno(capture), 2);
    run();
    std::fflush(stderr);
    ::dup2(saved, 2);
    ::close(saved);
    std::fclose(capture);
    std::ifstream in(path);
    std::stringstream text;
    text << in.rdbuf();
    std::filesystem::remove(path);
    return text.str();
}

}  // namespace

TEST_CASE("a PDF's text, its pages joined by a blank line", "[files]") {
    auto pdf = make_pdf({{"Hello from chatd", "Second line"}, {"Page two says hi"}});
    CHECK(pdf.size() < 2048);
    CHECK(pdf_text(pdf, 10'000) == "Hello from chatd\nSecond line\n\nPage two says hi");
}

TEST_CASE("a PDF's text stops at max_chars characters", "[files]") {
    auto pdf = make_pdf({{"Hello from chatd"}, {"Page two says hi"}});
    CHECK(pdf_text(pdf, 5) == "Hello");
    CHECK(pdf_text(pdf, 16) == "Hello from chatd");
    CHECK(pdf_text(pdf, 17) == "Hello from chatd");  // never a separator without its page
    CHECK(pdf_text(pdf, 20) == "Hello from chatd\n\nPa");
    CHECK(pdf_text(pdf, 0).empty());
}

TEST_CASE("a PDF's text has no spaces at line ends and no blank pages", "[files]") {
    auto pdf = make_pdf({{"spaces after   ", "  indented"}, {}, {"last"}});
    CHECK(pdf_text(pdf, 10'000) == "spaces after\nindented\n\nlast");
}

TEST_CASE("what is not a readable PDF throws unsupported_type", "[files]") {
    CHECK_THAT(refusal("%PDF-1.4\nthis is not really a PDF \x01\x02\x03"),
               Catch::StartsWith("unsupported_type: "));
    CHECK_THAT(refusal("garbage bytes"), Catch::StartsWith("unsupported_type: "));
    CHECK_THAT(refusal(""), Catch::StartsWith("unsupported_type: "));
    auto pdf = make_pdf({{"cut short"}});
    CHECK_THAT(refusal(pdf.substr(0, 20)), Catch::StartsWith("unsupported_type: "));
}

TEST_CASE("poppler's complaints about a broken PDF stay off stderr", "[files]") {
    auto pdf = make_pdf({{"Hello"}});
    auto broken = pdf.substr(0, pdf.find("xref")) +
                  "xref\n0 9\nnonsense\ntrailer\n<< >>\nstartxref\n1\n%%EOF\n";
    auto printed = stderr_of([&] {
        try {
            pdf_text(broken, 1000);
        } catch (const app_error&) {
        }
        refusal("%PDF-1.4\n1 0 obj << /Type /Catalog /Pages 99 0 R >> endobj\n");
    });
    CHECK(printed.empty());
}

TEST_CASE("a PDF that needs a password is refused; one only restricted is read", "[files]") {
    pdf_encryption locked("secret");
    CHECK_THAT(refusal(make_pdf({{"Top secret"}}, &locked)), Catch::Contains("password"));
    pdf_encryption restricted("");
    CHECK(pdf_text(make_pdf({{"Readable anyway"}}, &restricted), 1000) == "Readable anyway");
}
