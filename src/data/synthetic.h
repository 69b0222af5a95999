#pragma once
// A small learnable stand-in for Fashion-MNIST (--data synthetic): same geometry (28x28x1,
// 10 classes), generated in memory, so smoke runs and e2e tests need no files.
#include <cstddef>
#include <cstdint>

#include "data/dataset.h"

namespace dtrain::data {

// Each image is a "clock hand": a stroke from near the centre pointing in one of ten
// class-dependent directions (36 degrees apart) with a blob at its tip, drawn with random
// jitter (centre, angle, length, thickness, brightness) over seeded background noise.
// A small MLP or CNN gets well above 90% accuracy within an epoch of a few thousand
// examples; adjacent directions overlap enough that accuracy is not instantly 100%.
// Deterministic from seed; example i of a split depends only on (seed, split, i), so
// changing one split's size leaves the other splits and earlier examples unchanged.
DataSplits make_synthetic(std::size_t train, std::size_t val, std::size_t test, std::uint64_t seed);

}  // namespace dtrain::data
