#pragma once
// The sequence layers of the ONNX exporter, on [N, T, C] tensors (channels last; per_step
// dense also on any [N, ..., F]). Each appends its nodes after b.current() and leaves its
// output there. Opset 13 has no LayerNormalization or Gelu, so both are written in
// primitive ops:
//   embedding           Reshape [N, T] -> Cast int64 -> Gather(weight, ids)
//   position_embedding  Add(x, weight [T, C])
//   dense per_step      MatMul(x, weight^T) then Add(bias)
//   layernorm           ReduceMean, Sub, Mul, ReduceMean, Add(eps), Sqrt, Div, Mul(gamma),
//                       Add(beta) over the last axis
//   gelu                0.5 x (1 + Tanh(sqrt(2/pi) (x + 0.044715 x^3))) in Mul, Add, Tanh
//   attention           MatMul(x, Wqkv^T) + b -> Reshape [N, T, 3, H, d] -> Transpose
//                       [3, N, H, T, d] -> Gather 0, 1, 2 (Q, K, V) -> MatMul(Q, K^T) x
//                       1/sqrt(d) -> Add of a constant [T, T] mask (-1e9 above the diagonal,
//                       0 elsewhere: exp underflows to exactly 0 in float, as dtrain's -inf)
//                       -> Softmax(axis -1) -> MatMul(P, V) -> Transpose [N, T, H, d] ->
//                       Reshape [N, T, C] -> MatMul(., Wproj^T) + b
#include <string>

#include "export/onnx_graph.h"
#include "nn/model_config.h"

namespace dtrain::exporter {

void add_embedding(GraphBuilder& b, const std::string& name, const tensor::Shape& input);
void add_position_embedding(GraphBuilder& b, const std::string& name);
void add_per_step_dense(GraphBuilder& b, const std::string& name);
void add_layernorm(GraphBuilder& b, const std::string& name, float epsilon);
void add_gelu(GraphBuilder& b, const std::string& name);
void add_attention(GraphBuilder& b, const std::string& name, const nn::LayerConfig& c,
                   const tensor::Shape& input);

}  // namespace dtrain::exporter
