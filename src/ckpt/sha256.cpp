#include "ckpt/sha256.h"

#include <openssl/evp.h>

#include <stdexcept>

namespace dtrain::ckpt {

std::array<unsigned char, 32> sha256(const void* data, std::size_t size) {
  std::array<unsigned char, 32> digest{};
  unsigned int length = 0;
  if (EVP_Digest(data, size, digest.data(), &length, EVP_sha256(), nullptr) != 1 ||
      length != digest.size()) {
    throw std::runtime_error("OpenSSL SHA-256 failed");
  }
  return digest;
}

std::string sha256_hex(const void* data, std::size_t size) {
  static constexpr char kHex[] = "0123456789abcdef";
  std::string hex;
  for (unsigned char b : sha256(data, size)) {
    hex += kHex[b >> 4];
    hex += kHex[b & 15];
  }
  return hex;
}

}  // namespace dtrain::ckpt
