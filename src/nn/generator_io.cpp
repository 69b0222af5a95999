#include "nn/generator_io.h"

#include "core/rng.h"

namespace dtrain::nn {

void fill_noise(tensor::Tensor& z, std::size_t n, std::uint64_t seed, std::size_t first) {
  const std::size_t dim = z.numel() / n;
  for (std::size_t i = 0; i < n; ++i) {
    Rng rng(derive_seed(seed, first + i));
    for (std::size_t j = 0; j < dim; ++j) z[i * dim + j] = rng.normal();
  }
}

const tensor::Tensor& map_image_range(const tensor::Tensor& images, ImageRange range, Toward toward,
                                      tensor::Tensor& scratch) {
  if (range == ImageRange::kZeroToOne) return images;
  const bool to_model = toward == Toward::kModel;
  const float scale = to_model ? 2.0f : 0.5f, shift = to_model ? -1.0f : 0.5f;
  scratch.resize(images.shape());
  for (std::size_t i = 0; i < images.numel(); ++i) scratch[i] = scale * images[i] + shift;
  return scratch;
}

}  // namespace dtrain::nn
