#pragma once
// Full-text search over messages for the operator's logs, for Chinese as well as English.
// SQLite's FTS5 tokenizers either treat a run of Chinese characters as one "word" (unicode61)
// or cannot match fewer than three characters (trigram). This one indexes every CJK
// character alone and paired with the next, so any substring of one or more characters can
// be found, and lower-cased words for everything else (searched as prefixes).
#include <string>
#include <string_view>

struct sqlite3;

namespace chatd::store {

// Registers the tokenizer "chatd" on a connection; needed before the search table is used.
void register_search_tokenizer(sqlite3* db);

// The MATCH expression for what an operator typed: one phrase, the last word as a prefix.
// Empty when the text has nothing to search for.
std::string search_expression(std::string_view typed);

}  // namespace chatd::store
