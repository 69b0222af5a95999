#pragma once
// SHA-256 through OpenSSL's libcrypto (a Debian package, rather than a hand-written hash).
#include <array>
#include <cstddef>
#include <string>

namespace dtrain::ckpt {

std::array<unsigned char, 32> sha256(const void* data, std::size_t size);
std::string sha256_hex(const void* data, std::size_t size);

}  // namespace dtrain::ckpt
