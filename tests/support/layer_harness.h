// Runs one layer inside a real compiled graph (input layers -> layer under test), with
// the real memory planner, so that a layer which reads memory it did not declare gets
// wrong answers here. Weight gradients are captured by a recording optimizer that does
// not change the weights.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/layer.h"
#include "edgetrain/model.h"
#include "graph/executor.h"
#include "graph/graph.h"

namespace edgetrain::testing {

class LayerHarness {
 public:
  // `input_shapes` include the batch. A loss layer gets its label through label().
  // `between_layers` puts the layer under test (with one output) between identity
  // activation layers (in0 -> "pre0" -> under_test -> "post"), so that the compiler may run
  // it in place over its inputs and write its input gradients over its output gradient;
  // input(), output_grad() and input_grad() then belong to those neighbours and carry the
  // same values.
  LayerHarness(const std::string& type, const std::vector<std::string>& properties,
               const std::vector<TensorShape>& input_shapes, uint64_t seed = 1,
               bool trainable = true, bool between_layers = false);
  ~LayerHarness();

  Tensor input(size_t i = 0);
  Tensor output(size_t k = 0);
  // dL/d(output k) to set before backward(); losses have none.
  Tensor output_grad(size_t k = 0);
  Tensor label();
  Tensor weight(const std::string& name);
  std::vector<std::string> weight_names() const;
  bool has_weight(const std::string& name) const;
  // Recorded by the last backward(); empty if none was computed.
  const std::vector<float>& weight_grad(const std::string& name) const;
  Tensor input_grad(size_t i = 0);
  size_t num_inputs() const;
  size_t num_outputs() const;
  bool is_loss() const;

  void forward(bool training = true);
  void backward();
  // Restarts the random stream the layer sees (dropout), so runs repeat exactly.
  void reseed(uint64_t seed);

  const CompiledGraph& graph() const { return *graph_; }

 private:
  class RecordingOptimizer;
  const GraphNode& node() const;

  std::unique_ptr<LayerNode> layer_;
  std::vector<std::unique_ptr<LayerNode>> inputs_;  // and the neighbours
  int post_ = -1;  // the node after the layer under test (between_layers)
  std::unique_ptr<RecordingOptimizer> optimizer_;
  std::unique_ptr<CompiledGraph> graph_;
  std::unique_ptr<Executor> executor_;
  int node_ = -1;
};

// Finite-difference check of every input and weight gradient of the layer, using the
// objective L = sum(output * R) for fixed random R (or the loss itself for losses).
// Fills inputs (and labels) with values from `fill`. Reports failures via GoogleTest.
struct GradCheckOptions {
  float epsilon = 1e-3f;
  float tolerance = 2e-2f;  // relative to the larger of |analytic| and |numeric|, plus...
  float absolute = 1e-3f;   // ...this absolute floor
  bool training = true;
  size_t max_checks_per_tensor = 64;
  float input_low = -1.0f, input_high = 1.0f;
  float label_low = 0.0f, label_high = 1.0f;
  bool one_hot_labels = false;  // labels: one-hot rows over the width
};
void expect_gradients_match(LayerHarness& harness, const GradCheckOptions& options = {});

}  // namespace edgetrain::testing
