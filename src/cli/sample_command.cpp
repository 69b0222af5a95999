// dtrain sample: text from a language model's checkpoint (train/text_sampler.h). One process,
// no MPI: the checkpoint holds the network and its vocabulary.
#include <cstdio>

#include "cli/commands.h"
#include "tensor/blas.h"
#include "eval/text_sampler.h"

namespace dtrain::cli {

int run_sample(const SampleOptions& o) {
  tensor::set_blas_threads(o.threads);
  const LoadedModel m = load_checkpoint_model(o.checkpoint);
  if (m.state.model.task_kind() != nn::kTaskLanguageModel) {
    throw ConfigError("sample: " + m.path + " holds model '" + m.state.model.name + "' (task " +
                      m.state.model.task_kind() + "), expected a language_model (e.g. charlstm)");
  }
  const auto text = eval::sample_text(m.state.model, m.network().arena().params(),
                                       {.length = static_cast<std::size_t>(o.length),
                                        .temperature = o.temperature,
                                        .prime = o.prime,
                                        .seed = o.seed});
  // The prime, then the generated characters, then one newline.
  std::fwrite(o.prime.data(), 1, o.prime.size(), stdout);
  std::fwrite(text.data(), 1, text.size(), stdout);
  std::fputc('\n', stdout);
  std::fflush(stdout);
  return kExitOk;
}

}  // namespace dtrain::cli
