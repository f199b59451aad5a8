#pragma once
// Password hashing with Argon2id (memory-hard). Slow on purpose: call off the I/O threads.
#include <string>

namespace chatd::auth {

std::string hash_password(const std::string& password);
bool verify_password(const std::string& password, const std::string& encoded);

}  // namespace chatd::auth
