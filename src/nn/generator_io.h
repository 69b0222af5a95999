#pragma once
// What a GAN's generator takes and gives: its noise, and the mapping between the range its
// images live in and [0, 1]. The GAN task (training) and the sample judge (eval) both need
// them, and they must agree to the bit: the judge reproduces the task's noise streams.
#include <cstddef>
#include <cstdint>

#include "nn/model_config.h"
#include "tensor/tensor.h"

namespace dtrain::nn {

// One noise vector per example, drawn from a stream of its own: example `first + i` of
// a step gets the same noise whichever rank holds it, so np=1 and np=P compute the same
// step, while every rank and step still draws different noise. z holds n vectors.
void fill_noise(tensor::Tensor& z, std::size_t n, std::uint64_t seed, std::size_t first);

// Real images are read in [0, 1]; a tanh generator's live in [-1, 1]. The discriminator sees
// both in the generator's range, PNGs and the judging classifier in [0, 1]. Returns `images`
// itself when the ranges agree, else `scratch` holding the mapped copy.
enum class Toward { kModel, kUnit };
const tensor::Tensor& map_image_range(const tensor::Tensor& images, ImageRange range, Toward toward,
                                      tensor::Tensor& scratch);

}  // namespace dtrain::nn
