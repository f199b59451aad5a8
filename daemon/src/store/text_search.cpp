#include "store/text_search.hpp"

#include <sqlite3.h>

#include <cctype>
#include <stdexcept>
#include <vector>

namespace chatd::store {

namespace {

// Han, kana, Hangul and their extensions: scripts written without spaces between words.
bool is_cjk(char32_t c) {
    return (c >= 0x2E80 && c <= 0x2FDF) || (c >= 0x3040 && c <= 0x9FFF) || (c >= 0xAC00 && c <= 0xD7AF) ||
           (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x20000 && c <= 0x3FFFF);
}

// Punctuation and spaces separate words; every other character belongs to one.
bool is_separator(char32_t c) {
    if (c < 0x80) return !((c >= '0' && c <= '9') || (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_');
    return (c >= 0x2000 && c <= 0x206F) || (c >= 0x3000 && c <= 0x303F) || (c >= 0xFF00 && c <= 0xFF0F) ||
           (c >= 0xFF1A && c <= 0xFF20) || (c >= 0xFF3B && c <= 0xFF40) || (c >= 0xFF5B && c <= 0xFF65) ||
           c == 0xA0 || c == 0xFEFF;
}

struct glyph {
    char32_t c;
    int start, end;  // byte offsets
};

// Decodes UTF-8; an invalid byte becomes a separator of its own.
std::vector<glyph> decode(const char* text, int size) {
    std::vector<glyph> out;
    out.reserve(static_cast<std::size_t>(size));
    const auto* s = reinterpret_cast<const unsigned char*>(text);
    for (int i = 0; i < size;) {
        unsigned char b = s[i];
        int n = b < 0x80 ? 1 : (b >> 5) == 6 ? 2 : (b >> 4) == 14 ? 3 : (b >> 3) == 30 ? 4 : 0;
        char32_t c = n == 1 ? b : n == 2 ? b & 0x1F : n == 3 ? b & 0x0F : b & 0x07;
        bool ok = n > 0 && i + n <= size;
        for (int k = 1; ok && k < n; ++k) {
            if ((s[i + k] & 0xC0) != 0x80) ok = false;
            else c = (c << 6) | (s[i + k] & 0x3F);
        }
        if (!ok) {
            out.push_back({U' ', i, i + 1});
            ++i;
            continue;
        }
        out.push_back({c, i, i + n});
        i += n;
    }
    return out;
}

using emit_fn = int (*)(void*, int, const char*, int, int, int);

int tokenize(Fts5Tokenizer*, void* ctx, int flags, const char* text, int size, emit_fn emit) {
    const bool query = (flags & FTS5_TOKENIZE_QUERY) != 0;
    auto glyphs = decode(text, size);
    std::string word;
    for (std::size_t i = 0; i < glyphs.size();) {
        auto c = glyphs[i].c;
        if (is_separator(c)) {
            ++i;
            continue;
        }
        if (is_cjk(c)) {
            std::size_t end = i;
            while (end < glyphs.size() && is_cjk(glyphs[end].c)) ++end;
            for (std::size_t k = i; k < end; ++k) {
                const char* at = text + glyphs[k].start;
                bool last = k + 1 == end;
                int rc = SQLITE_OK;
                if (!query) {
                    // The character at its position, and the pair it starts at the same one.
                    rc = emit(ctx, 0, at, glyphs[k].end - glyphs[k].start, glyphs[k].start, glyphs[k].end);
                    if (rc == SQLITE_OK && !last)
                        rc = emit(ctx, FTS5_TOKEN_COLOCATED, at, glyphs[k + 1].end - glyphs[k].start,
                                  glyphs[k].start, glyphs[k + 1].end);
                } else if (!last) {
                    // A query run of n characters: its n-1 pairs, then the last character alone,
                    // which keeps the positions of whatever follows in step with the document's.
                    rc = emit(ctx, 0, at, glyphs[k + 1].end - glyphs[k].start, glyphs[k].start, glyphs[k + 1].end);
                } else {
                    rc = emit(ctx, 0, at, glyphs[k].end - glyphs[k].start, glyphs[k].start, glyphs[k].end);
                }
                if (rc != SQLITE_OK) return rc;
            }
            i = end;
            continue;
        }
        std::size_t end = i;
        word.clear();
        while (end < glyphs.size() && !is_separator(glyphs[end].c) && !is_cjk(glyphs[end].c)) {
            auto g = glyphs[end];
            if (g.c < 0x80) word += static_cast<char>(g.c >= 'A' && g.c <= 'Z' ? g.c + 32 : g.c);
            else word.append(text + g.start, static_cast<std::size_t>(g.end - g.start));
            ++end;
        }
        if (word.size() <= 64) {  // longer "words" are data (hashes, base64), not worth indexing
            int rc = emit(ctx, 0, word.data(), static_cast<int>(word.size()), glyphs[i].start, glyphs[end - 1].end);
            if (rc != SQLITE_OK) return rc;
        }
        i = end;
    }
    return SQLITE_OK;
}

int create(void*, const char**, int, Fts5Tokenizer** out) {
    static int instance;
    *out = reinterpret_cast<Fts5Tokenizer*>(&instance);
    return SQLITE_OK;
}

void destroy(Fts5Tokenizer*) {}

}  // namespace

void register_search_tokenizer(sqlite3* db) {
    fts5_api* api = nullptr;
    sqlite3_stmt* st = nullptr;
    if (sqlite3_prepare_v2(db, "SELECT fts5(?1)", -1, &st, nullptr) == SQLITE_OK) {
        sqlite3_bind_pointer(st, 1, static_cast<void*>(&api), "fts5_api_ptr", nullptr);
        sqlite3_step(st);
    }
    sqlite3_finalize(st);
    if (!api) throw std::runtime_error("this SQLite has no FTS5");
    static fts5_tokenizer tokenizer{create, destroy, tokenize};
    if (api->xCreateTokenizer(api, "chatd", nullptr, &tokenizer, nullptr) != SQLITE_OK)
        throw std::runtime_error("cannot register the search tokenizer");
}

std::string search_expression(std::string_view typed) {
    bool any = false;
    for (unsigned char c : typed)
        if (c >= 0x80 || std::isalnum(c)) any = true;
    if (!any) return {};
    std::string phrase = "\"";
    for (char c : typed) {
        if (c == '"') phrase += "\"\"";
        else phrase += c;
    }
    phrase += "\"";
    // A word still being typed matches longer words: "pyth" finds "python".
    unsigned char last = typed.empty() ? 0 : static_cast<unsigned char>(typed.back());
    if (std::isalnum(last)) phrase += " *";
    return phrase;
}

}  // namespace chatd::store
