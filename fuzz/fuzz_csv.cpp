// libFuzzer target: the CSV parser on arbitrary text, with the label in the last column and
// in a named one. DataError (naming the line and column of a bad cell) is the documented
// outcome of bad input; anything else is a bug.
#include <cstddef>
#include <cstdint>
#include <string_view>

#include "core/errors.h"
#include "data/csv.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view text(reinterpret_cast<const char*>(data), size);
  for (const char* label : {"", "label"}) {
    try {
      const auto table = dtrain::data::parse_csv(text, "fuzz.csv", label);
      // What training relies on: one row of features per label.
      if (table.features.size() != table.rows() * table.feature_names.size()) __builtin_trap();
    } catch (const dtrain::DataError&) {
    }
  }
  return 0;
}
