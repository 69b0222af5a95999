#pragma once
// Which parameters AdamW's --weight-decay shrinks: weight matrices and kernels (slots of two
// or more dimensions: dense, conv2d, conv2d_transpose, the recurrent layers' input and
// recurrent weights, attention projections). Not biases, batchnorm/layernorm scales and
// shifts, running statistics (one dimension) and never an embedding's table, as in the
// usual recipe (decay pulls rare tokens' rows to zero). A layer named in `also_decay` (a
// model file's `defaults { weight_decay_layers }`) has all its slots decayed.
#include <string>
#include <vector>

#include "nn/sequential.h"
#include "optim/optimizer.h"

namespace dtrain::optim {

// Arena ranges of the decayed slots, in arena order, adjacent slots merged. Names in
// also_decay that are not layers of this model are ignored (a GAN's list names the layers
// of both networks).
std::vector<ParamRange> decayed_ranges(const nn::Sequential& model,
                                       const std::vector<std::string>& also_decay = {});

// Throws ConfigError naming the model file's option when a name is a layer of none of them.
void check_layer_names(const std::vector<const nn::Sequential*>& models,
                       const std::vector<std::string>& names);

}  // namespace dtrain::optim
