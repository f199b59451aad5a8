#include "billing/cards.hpp"

#include "util/random.hpp"

namespace chatd::billing {

namespace {
constexpr std::string_view alphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ";
constexpr std::size_t code_length = 16;
}  // namespace

std::string new_card_code() { return random_base32(code_length); }

std::string format_card_code(std::string_view code) {
    std::string out;
    for (std::size_t i = 0; i < code.size(); ++i) {
        if (i && i % 4 == 0) out += '-';
        out += code[i];
    }
    return out;
}

std::optional<std::string> normalise_card_code(std::string_view input) {
    std::string out;
    for (char c : input) {
        if (c == '-' || c == ' ' || c == '\t') continue;
        if (c >= 'a' && c <= 'z') c = static_cast<char>(c - 32);
        if (c == 'O') c = '0';
        if (c == 'I' || c == 'L') c = '1';
        if (alphabet.find(c) == std::string_view::npos) return std::nullopt;
        out += c;
        if (out.size() > code_length) return std::nullopt;
    }
    if (out.size() != code_length) return std::nullopt;
    return out;
}

redemption apply_card(const balance& before, std::int64_t questions, std::int64_t days, std::int64_t now) {
    redemption r;
    r.after = before;
    const std::int64_t span = days * 86400;
    if (before.paid_expires_at && *before.paid_expires_at > now) {
        r.after.paid = before.paid + questions;
        r.after.paid_expires_at = *before.paid_expires_at + span;
    } else {
        r.forfeited = before.paid;
        r.after.paid = questions;
        r.after.paid_expires_at = now + span;
    }
    return r;
}

}  // namespace chatd::billing
