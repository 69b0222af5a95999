#pragma once
// Explanations of a classifier's decision on one input: which input values (or which regions
// of a convolutional feature map) the logit of a class depends on. The methods are Captum's
// anchors; each explains the logit (pre-softmax score) of `target`, the model in evaluation
// mode, one example at a time.
//
// - saliency (Simonyan et al. 2014): |d logit_target / d x|, the largest over channels. One
//   forward and one backward pass.
// - integrated gradients (Sundararajan et al. 2017): (x - x0) * the mean gradient along the
//   straight path from the baseline x0 (all zeros: a black image) to x, at `steps` midpoints
//   (x0 + (k + 1/2)/steps (x - x0), k = 0..steps-1). The attributions sum to
//   logit(x) - logit(x0) up to the path integral's discretization error ("completeness");
//   summed over channels, signed. The steps run as one batch: one forward and one backward.
// - Grad-CAM (Selvaraju et al. 2017): at the last layer with a spatial output [H', W', C]
//   (the feature map before the classifier flattens it), each channel's weight is the mean
//   over H' x W' of d logit_target / d A; the map is relu(sum_c weight_c A_c), scaled up to
//   the input's size (bilinear). One forward and one backward pass.
#include <cstddef>
#include <string>
#include <vector>

#include "nn/sequential.h"

namespace dtrain::eval {

enum class AttributionMethod { kSaliency, kIntegratedGradients, kGradCam };
// "saliency", "integrated-gradients", "gradcam"; throws ConfigError otherwise.
AttributionMethod parse_attribution_method(const std::string& name);
std::string attribution_method_name(AttributionMethod method);

struct Explanation {
  std::size_t target = 0;            // the class explained
  std::vector<float> probabilities;  // softmax of the logits at x
  std::vector<float> map;            // [H x W] of the input: one value per pixel
  double logit = 0.0;                // logit_target(x)
  double baseline_logit = 0.0;       // integrated gradients: logit_target(x0)
  std::string layer;                 // Grad-CAM: the feature layer's name
};

// x: one example [1, input shape] with a spatial input shape [H, W, C] (images, spectrograms).
// target: the class to explain; -1 the predicted one. Throws ConfigError when the model's
// output is not a vector of class logits, its input is not [H, W, C], or (Grad-CAM) it has no
// spatial layer before the classifier.
Explanation explain(nn::Sequential& model, const tensor::Tensor& x, AttributionMethod method,
                    long target = -1, int steps = 64);

// Spearman's rank correlation of two maps of the same size (ties get their mean rank): the
// model-randomization sanity check (Adebayo et al. 2018) compares a trained model's maps with
// a randomly initialized one's, and a method that explains the model gives low correlation.
double rank_correlation(const std::vector<float>& a, const std::vector<float>& b);

}  // namespace dtrain::eval
