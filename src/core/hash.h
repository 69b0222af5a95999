#pragma once
// FNV-1a, for cheap fingerprints that ranks compare at start-up (parameter layout, run
// configuration). Not cryptographic: it only has to make accidental mismatches visible.
#include <cstdint>
#include <cstring>
#include <string_view>
#include <type_traits>

namespace dtrain {

class Fingerprint {
 public:
  Fingerprint& add_bytes(const void* data, std::size_t n) {
    const auto* p = static_cast<const unsigned char*>(data);
    for (std::size_t i = 0; i < n; ++i) {
      value_ = (value_ ^ p[i]) * 0x100000001B3ULL;
    }
    return *this;
  }
  Fingerprint& add(std::string_view s) {
    add(static_cast<std::uint64_t>(s.size()));
    return add_bytes(s.data(), s.size());
  }
  template <typename T>
  Fingerprint& add(T value) requires std::is_arithmetic_v<T> {
    return add_bytes(&value, sizeof value);
  }
  std::uint64_t value() const { return value_; }

 private:
  std::uint64_t value_ = 0xCBF29CE484222325ULL;
};

}  // namespace dtrain
