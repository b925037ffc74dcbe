#include "layers/dropout.h"

#include <algorithm>
#include <cstdint>
#include <cstring>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "kernels/threads.h"

namespace edgetrain {
namespace {

constexpr size_t kBits = 32;  // mask bits in one float's memory

}  // namespace

bool DropoutLayer::set_property(const std::string& key, const std::string& value,
                                const std::string& owner) {
  if (key != "dropout_rate" && key != "rate") return false;
  // A rate of 1 would drop everything and make the 1 / (1 - rate) scale infinite.
  rate_ = parse_fraction(value, owner, key);
  return true;
}

void DropoutLayer::finalize(FinalizeContext& context) {
  context.expect_inputs(1, 1);
  const TensorShape& input = context.input_shape();
  context.set_output_shape(input);
  mask_ = -1;
  // One bit per value, 32 to a float's memory. Requested tensors keep their declared
  // shape: sized for the compiled batch, of which a smaller last batch uses the first bits.
  const size_t words = (input.with_batch(context.batch()).size() + kBits - 1) / kBits;
  if (rate_ > 0.0f)
    mask_ = static_cast<int>(
        context.request_tensor("mask", TensorShape(1, 1, 1, words), Lifespan::forward_to_backward));
}

void DropoutLayer::forward(RunContext& context) {
  const Tensor& input = context.input();
  Tensor& output = context.output();
  if (!dropping(context)) {
    output.copy_from(input);
    return;
  }
  const float scale = 1.0f / (1.0f - rate_);
  float* mask = context.tensor(mask_).data();
  Rng& rng = context.rng();
  const float* x = input.data();
  float* y = output.data();  // may be x: each value is read before it is written
  const size_t n = input.size();
  for (size_t word = 0; word * kBits < n; ++word) {
    uint32_t bits = 0;
    for (size_t i = word * kBits; i < std::min(n, (word + 1) * kBits); ++i) {
      const bool keep = !(rng.uniform() < rate_);
      bits |= static_cast<uint32_t>(keep) << (i - word * kBits);
      y[i] = x[i] * (keep ? scale : 0.0f);
    }
    std::memcpy(mask + word, &bits, sizeof bits);
  }
}

void DropoutLayer::calc_derivative(RunContext& context) {
  if (!context.needs_input_grad()) return;
  const Tensor& output_grad = context.output_grad();
  Tensor& input_grad = context.input_grad();
  if (!dropping(context)) {
    input_grad.copy_from(output_grad);
    return;
  }
  const float scale = 1.0f / (1.0f - rate_);
  const float* mask = context.tensor(mask_).data();
  const float* dy = output_grad.data();
  float* dx = input_grad.data();  // may be dy
  const size_t n = output_grad.size();
  kernels::parallel_ranges((n + kBits - 1) / kBits, kBits, [&](size_t begin, size_t end) {
    for (size_t word = begin; word < end; ++word) {
      uint32_t bits;
      std::memcpy(&bits, mask + word, sizeof bits);
      for (size_t i = word * kBits; i < std::min(n, (word + 1) * kBits); ++i)
        dx[i] = dy[i] * ((bits >> (i - word * kBits)) & 1u ? scale : 0.0f);
    }
  });
}

}  // namespace edgetrain
