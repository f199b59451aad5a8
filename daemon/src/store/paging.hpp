#pragma once
// What every backend's listings share: LIKE patterns and keyset pages.
#include <optional>
#include <string>
#include <vector>

namespace chatd::store {

// A LIKE pattern (with ESCAPE '\') that finds `q` anywhere, its wildcards taken literally.
std::string like_pattern(const std::string& q);

// Pages fetch one row more than asked: its presence means there is a next page, whose cursor
// is the key of the last row kept.
template <class Row, class Key>
void finish_page(std::vector<Row>& rows, int limit, std::optional<std::string>& next, Key key) {
    next.reset();
    if (static_cast<int>(rows.size()) <= limit) return;
    rows.pop_back();
    next = key(rows.back());
}

}  // namespace chatd::store
