// How good generated samples look to a classifier: the Inception Score (Salimans et al.,
// 2016) with any edgetrain classifier in place of Inception,
//
//   IS = exp(E_x[KL(p(y|x) || p(y))]),   p(y) = E_x[p(y|x)],
//
// high when each sample is confidently one class (sharp p(y|x)) and the samples cover
// the classes evenly (flat p(y)). It ranges from 1 to the number of classes. Compare it
// with the score of real images under the same classifier, not across classifiers.
#pragma once

#include <cstddef>
#include <span>
#include <vector>

namespace edgetrain {

// The score of `probabilities`: rows of `classes` values, each row p(y|x) for one sample
// (non-negative, summing to 1 within 1e-3). Terms with p(y|x) = 0 count as 0. Throws
// Error when `classes` is 0, there are no rows, the values are not whole rows, or a row
// is not a probability distribution (the message names the row).
double inception_score(std::span<const float> probabilities, size_t classes);

// Softmax of each row of `classes` logits, computed stably (the row maximum is subtracted),
// to turn a classifier's logits into p(y|x). Throws Error as inception_score for sizes.
std::vector<float> softmax_rows(std::span<const float> logits, size_t classes);

}  // namespace edgetrain
