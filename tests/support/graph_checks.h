// Layer checks that LayerHarness does not cover (a last batch smaller than the compiled
// one, an input that needs no gradient), and helpers for tests of user errors.
#pragma once

#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "edgetrain/tensor.h"
#include "graph/graph.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {

// Compiles `type` on inputs of `input_shapes` and returns the message of the ErrorType it
// throws; fails the test when it throws none.
template <typename ErrorType>
std::string compile_error(const std::string& type, const std::vector<std::string>& properties,
                          const std::vector<TensorShape>& input_shapes) {
  try {
    LayerHarness harness(type, properties, input_shapes);
  } catch (const ErrorType& error) {
    return error.what();
  }
  ADD_FAILURE() << "expected " << type << " to fail to compile";
  return "";
}

// Expects each of `words` in `message`.
void expect_mentions(const std::string& message, const std::vector<std::string>& words);

// Empty if the compiled graph's memory plan is valid; otherwise the first problem. In-place
// aliases (GraphTensor::alias_of) take no memory of their own: each must sit at its storage
// tensor's offset, within that tensor's planned lifetime, with the same size.
std::string plan_conflict(const CompiledGraph& graph);

// Whether the planner keeps tensor `id` alive while the layer named "under_test" computes
// its input gradients; false means its memory may hold something else by then.
bool alive_in_derivative(const CompiledGraph& graph, int id);

// Runs forward and backward on the full compiled batch of `input_shapes`, then on its
// first `batch` samples alone (Executor::set_batch), and expects the same outputs and
// input gradients for those samples.
void expect_partial_batch_matches(const std::string& type,
                                  const std::vector<std::string>& properties,
                                  const std::vector<TensorShape>& input_shapes, size_t batch);

// The layer under test with two inputs, each behind a width-preserving fully_connected:
// the first frozen (so that input 0 needs no gradient), the second trainable.
struct FrozenFirstInput {
  std::vector<float> output_grad;               // set before backward
  std::vector<std::vector<float>> input_grads;  // empty when the graph made none
};
FrozenFirstInput run_with_frozen_first_input(const std::string& type,
                                             const std::vector<std::string>& properties,
                                             const TensorShape& shape0, const TensorShape& shape1);

}  // namespace edgetrain::testing
