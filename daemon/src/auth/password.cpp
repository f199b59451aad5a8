#include "auth/password.hpp"

#include <argon2.h>

#include <stdexcept>
#include <vector>

#include "util/random.hpp"

namespace chatd::auth {

namespace {
// OWASP's Argon2id baseline: 19 MiB, 2 passes, 1 lane (~30 ms on one core).
constexpr uint32_t t_cost = 2;
constexpr uint32_t m_cost_kib = 19 * 1024;
constexpr uint32_t lanes = 1;
constexpr std::size_t salt_len = 16;
constexpr std::size_t hash_len = 32;
}  // namespace

std::string hash_password(const std::string& password) {
    std::string salt = random_bytes(salt_len);
    std::size_t len = argon2_encodedlen(t_cost, m_cost_kib, lanes, salt_len, hash_len, Argon2_id);
    std::vector<char> encoded(len);
    int rc = argon2id_hash_encoded(t_cost, m_cost_kib, lanes, password.data(), password.size(),
                                   salt.data(), salt.size(), hash_len, encoded.data(), len);
    if (rc != ARGON2_OK) throw std::runtime_error(argon2_error_message(rc));
    return std::string(encoded.data());
}

bool verify_password(const std::string& password, const std::string& encoded) {
    if (encoded.empty()) return false;
    return argon2id_verify(encoded.c_str(), password.data(), password.size()) == ARGON2_OK;
}

}  // namespace chatd::auth
