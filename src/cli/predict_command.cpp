// dtrain predict: the checkpoint's network on new examples.
//
// Sharding: the input is cut into fixed batches of --batch examples, [k*B, (k+1)*B), and
// rank r runs batches r, r+P, r+2P, ... Every batch holds the same examples whatever the
// number of ranks, so each output row comes from the same computation (same GEMM shapes)
// and np=1 and np=P write identical bytes. Each batch's output is then broadcast from the
// rank that computed it, so every rank ends with the whole output in input order; rank 0
// writes the files.
#include <algorithm>
#include <cmath>
#include <cstdio>

#include "cli/commands.h"
#include "comm/mpi/mpi_communicator.h"
#include "data/array_dataset.h"
#include "data/batch.h"
#include "data/npy.h"
#include "tensor/blas.h"

namespace dtrain::cli {
namespace {

std::span<const std::uint8_t> bytes_of(const std::vector<float>& v) {
  return {reinterpret_cast<const std::uint8_t*>(v.data()), v.size() * sizeof(float)};
}

}  // namespace

int run_predict(const PredictOptions& o) {
  comm::MpiCommunicator comm("ring");
  tensor::set_blas_threads(o.threads);
  LoadedModel m;
  data::Dataset input;
  agree_on_setup(comm, [&] {
    m = load_checkpoint_model(o.checkpoint);
    input = data::dataset_from_arrays(data::read_npy(o.input), nullptr, o.input, "");
    const auto& in = m.network().input_shape();
    // A flat [N, D] array fits any model input of D values (a GAN's noise, say).
    const bool flat = input.height == 1 && input.channels == 1;
    const bool same = in.rank() == 3 && in[0] == std::size_t(input.height) &&
                      in[1] == std::size_t(input.width) && in[2] == std::size_t(input.channels);
    if (!same && !(flat && in.numel() == input.sample_size())) {
      throw ConfigError("--input " + o.input + " holds " + input.shape_text() +
                        " examples but the checkpoint's network '" + m.network().name() +
                        "' expects " + in.to_string());
    }
  });
  const std::string kind = m.state.model.task_kind();
  const bool classifier = kind == nn::kTaskClassify;
  nn::Sequential& net = m.network();
  const std::size_t n = input.size();
  const std::size_t out_size = net.output_shape().numel();
  const auto batch = static_cast<std::size_t>(o.batch);
  std::vector<float> out(n * out_size);
  run_guarded(comm, [&] {
    tensor::Tensor x;
    const std::size_t batches = (n + batch - 1) / batch;
    for (std::size_t k = 0; k < batches; ++k) {
      const std::size_t begin = k * batch, count = std::min(batch, n - begin);
      const int owner = static_cast<int>(k % static_cast<std::size_t>(comm.size()));
      float* rows = out.data() + begin * out_size;
      if (owner == comm.rank()) {
        tensor::Shape shape = net.input_shape();
        std::vector<std::size_t> dims = {count};
        for (std::size_t i = 0; i < shape.rank(); ++i) dims.push_back(shape[i]);
        x.resize(tensor::Shape(dims));
        data::gather_range(input, begin, count, x.data());
        const tensor::Tensor& y = net.forward(x, nn::ForwardContext{});
        std::copy_n(y.data(), count * out_size, rows);
      }
      comm.broadcast(std::span<float>(rows, count * out_size), owner);
    }
  });
  if (comm.rank() != 0) return kExitOk;

  std::vector<std::uint64_t> shape = {n};
  const auto& os = net.output_shape();
  for (std::size_t i = 0; i < os.rank(); ++i) shape.push_back(os[i]);
  if (!classifier) {
    data::write_npy(o.output, data::NpyDtype::kFloat32, shape, bytes_of(out));
    std::printf("%s: %zu %s of shape %s\n", o.output.c_str(), n,
                kind == nn::kTaskGan ? "samples" : "reconstructions", os.to_string().c_str());
    return kExitOk;
  }
  // Softmax per row (max subtracted first, so exp never overflows) and the arg max.
  std::vector<float> probs(out.size());
  std::vector<std::int64_t> classes(n);
  for (std::size_t i = 0; i < n; ++i) {
    const float* z = out.data() + i * out_size;
    float* p = probs.data() + i * out_size;
    const std::size_t best = static_cast<std::size_t>(std::max_element(z, z + out_size) - z);
    double sum = 0.0;
    for (std::size_t j = 0; j < out_size; ++j) sum += std::exp(double(z[j]) - double(z[best]));
    for (std::size_t j = 0; j < out_size; ++j) {
      p[j] = static_cast<float>(std::exp(double(z[j]) - double(z[best])) / sum);
    }
    classes[i] = static_cast<std::int64_t>(best);
  }
  data::write_npy(o.output, data::NpyDtype::kFloat32, shape, bytes_of(probs));
  if (!o.logits_path.empty()) {
    data::write_npy(o.logits_path, data::NpyDtype::kFloat32, shape, bytes_of(out));
  }
  if (!o.classes_path.empty()) {
    data::write_npy(o.classes_path, data::NpyDtype::kInt64, {n},
                    {reinterpret_cast<const std::uint8_t*>(classes.data()), n * 8});
  }
  std::printf("%s: class probabilities of %zu examples over %zu classes\n", o.output.c_str(), n,
              out_size);
  return kExitOk;
}

}  // namespace dtrain::cli
