// The layer interface. A layer works in two phases:
//
//  1. finalize(FinalizeContext&) at compile time: reads its input shapes, sets its
//     output shapes and *declares* the weights and extra tensors it needs, each with a
//     lifespan. It allocates nothing; the memory planner places every tensor in one arena.
//  2. At run time, with every tensor bound to arena memory:
//       forward(ctx)          outputs from inputs and weights;
//       calc_derivative(ctx)  dL/d(inputs) from dL/d(outputs);
//       calc_gradient(ctx)    dL/d(weights) from dL/d(outputs).
//
// Contract for the backward functions: both OVERWRITE their results (input gradients,
// weight gradients); nothing accumulates. Fan-out is handled by the graph, which gives
// each consumer its own gradient tensor and sums them. A layer reads only what it
// declared: its inputs in backward only if backward_needs_input(i), its outputs only if
// backward_needs_output(i), its tensors only within their lifespan. The planner reuses
// everything else's memory.
#pragma once

#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/initializer.h"
#include "edgetrain/rng.h"
#include "edgetrain/tensor.h"

namespace edgetrain {

// How long a tensor a layer requests must keep its contents.
enum class Lifespan {
  forward,              // scratch used inside forward only
  forward_to_backward,  // written in forward, read in this layer's backward
  backward,             // scratch used inside calc_gradient / calc_derivative only
};

// A weight a layer declares: learnable parameters (trainable = true) or persistent
// state such as batch norm's running statistics (trainable = false).
struct WeightSpec {
  std::string name;
  TensorShape shape;
  Initializer initializer = Initializer::zeros;
  size_t fan_in = 0;
  size_t fan_out = 0;
  bool trainable = true;
};

// An extra tensor a layer declares.
struct TensorSpec {
  std::string name;
  TensorShape shape;
  Lifespan lifespan = Lifespan::forward;
};

// What finalize sees and declares. Shapes include the batch dimension.
class FinalizeContext {
 public:
  FinalizeContext(std::string layer_name, std::string layer_type, size_t batch,
                  std::vector<TensorShape> input_shapes, std::vector<std::string> input_names,
                  bool trainable);

  const std::string& layer_name() const { return layer_name_; }
  // "layer 'conv1' (conv2d)", for messages.
  std::string owner() const;
  size_t num_inputs() const { return input_shapes_.size(); }
  const TensorShape& input_shape(size_t i = 0) const;
  // Name of the layer that produces input i.
  const std::string& input_name(size_t i = 0) const;
  // The batch size the graph is compiled for.
  size_t batch() const { return batch_; }
  // false when the layer is frozen (trainable=false): no weight gradient will be asked.
  bool trainable() const { return trainable_; }

  // Throws ShapeError unless the layer has between min and max inputs.
  void expect_inputs(size_t min_inputs, size_t max_inputs) const;
  // Throws a ShapeError naming this layer, input i, its producer and its shape.
  [[noreturn]] void shape_error(size_t i, const std::string& expected) const;

  void set_output_shape(TensorShape shape) { output_shapes_ = {shape}; }
  void set_output_shapes(std::vector<TensorShape> shapes) { output_shapes_ = std::move(shapes); }
  // Returns the index to use with RunContext::weight / weight_grad.
  size_t request_weight(WeightSpec spec);
  // Returns the index to use with RunContext::tensor.
  size_t request_tensor(std::string name, TensorShape shape, Lifespan lifespan);

  const std::vector<TensorShape>& output_shapes() const { return output_shapes_; }
  const std::vector<WeightSpec>& weights() const { return weights_; }
  const std::vector<TensorSpec>& tensors() const { return tensors_; }

 private:
  std::string layer_name_;
  std::string layer_type_;
  size_t batch_;
  std::vector<TensorShape> input_shapes_;
  std::vector<std::string> input_names_;
  bool trainable_;
  std::vector<TensorShape> output_shapes_;
  std::vector<WeightSpec> weights_;
  std::vector<TensorSpec> tensors_;
};

// What a layer sees at run time: views bound to arena memory. Activation tensors and
// their gradients carry the current batch size, which may be smaller than the compiled
// one for a last partial batch; weights and requested tensors keep declared shapes.
class RunContext {
 public:
  size_t num_inputs() const { return inputs_.size(); }
  size_t num_outputs() const { return outputs_.size(); }
  const Tensor& input(size_t i = 0) const { return inputs_[i]; }
  Tensor& output(size_t i = 0) { return outputs_[i]; }
  const Tensor& output(size_t i = 0) const { return outputs_[i]; }
  // dL/d(output i), written by the consumers of that output.
  const Tensor& output_grad(size_t i = 0) const { return output_grads_[i]; }
  // dL/d(input i), to be written by calc_derivative; empty when nobody needs it.
  Tensor& input_grad(size_t i = 0) { return input_grads_[i]; }
  bool needs_input_grad(size_t i = 0) const { return !input_grads_[i].empty(); }
  Tensor& weight(size_t i) { return weights_[i]; }
  const Tensor& weight(size_t i) const { return weights_[i]; }
  // dL/d(weight i); empty for non-trainable weights and frozen layers.
  Tensor& weight_grad(size_t i) { return weight_grads_[i]; }
  bool needs_weight_grad(size_t i) const { return !weight_grads_[i].empty(); }
  // In calc_gradient of a layer that supports_fused_update, when the graph folded the
  // optimizer's step into it: add update_scale() * dL/d(weight i) to every weight directly
  // (there are no weight_grad tensors then). calc_derivative has already run.
  bool fused_update() const { return fused_update_; }
  float update_scale() const { return update_scale_; }
  Tensor& tensor(size_t i) { return tensors_[i]; }
  // The target of a loss layer, shaped like its input.
  const Tensor& label() const { return label_; }
  size_t batch() const { return batch_; }
  // The mode of the last forward; backward sees the same mode (a backward after an
  // evaluation-mode forward is fine-tuning with frozen statistics).
  bool training() const { return training_; }
  Rng& rng() { return *rng_; }

 private:
  friend class Executor;
  std::vector<Tensor> inputs_, outputs_, output_grads_, input_grads_;
  std::vector<Tensor> weights_, weight_grads_, tensors_;
  Tensor label_;
  size_t batch_ = 0;
  bool training_ = false;
  bool fused_update_ = false;
  float update_scale_ = 0.0f;
  Rng* rng_ = nullptr;
};

class Layer {
 public:
  virtual ~Layer() = default;

  // The registered type name, e.g. "conv2d".
  virtual std::string type() const = 0;
  // Parses one property. Returns false if `key` (lower-case) is not this layer's;
  // throws PropertyError (naming `owner`) if the value is malformed.
  virtual bool set_property(const std::string& key, const std::string& value,
                            const std::string& owner);
  // The keys set_property accepts, for error messages.
  virtual std::string property_keys() const { return ""; }

  virtual void finalize(FinalizeContext& context) = 0;
  virtual void forward(RunContext& context) = 0;
  virtual void calc_derivative(RunContext& context) = 0;
  virtual void calc_gradient(RunContext& /*context*/) {}

  // What backward reads besides output gradients, weights and its own tensors.
  virtual bool backward_needs_input(size_t /*i*/) const { return true; }
  virtual bool backward_needs_output(size_t /*i*/) const { return false; }
  // Whether calc_derivative reads input i (only if backward_needs_input(i)). Layers whose
  // input gradient needs only weights and output gradients say false: the input then dies
  // after calc_gradient instead of living through calc_derivative.
  virtual bool derivative_needs_input(size_t i) const { return backward_needs_input(i); }
  // Whether running forward again on the same inputs and weights writes the same outputs
  // and tensors and changes nothing else (no running statistics, no random draws): the
  // compiler may then drop the output after forward and recompute it before backward
  // needs it, to meet a memory budget.
  virtual bool forward_is_repeatable() const { return false; }
  // Whether calc_gradient can apply a plain gradient step itself (RunContext::fused_update)
  // for all its weights, all of them trainable, after calc_derivative: the weight gradient
  // then goes straight into the weights, which saves its memory and a pass over it.
  virtual bool supports_fused_update() const { return false; }

  // In-place operation; the graph compiler decides (src/graph/in_place.cpp). When true,
  // output 0 may share the memory of input `i`: forward must then be correct with
  // input(i) and output(0) the same array, and backward must not read input i
  // (backward_needs_input(i) false). The compiler uses it only when nothing else reads
  // the input's values afterwards (a single consumer, a producer whose backward does not
  // read its output, not a model input or a tensor the caller reads).
  virtual bool supports_in_place(size_t /*i*/) const { return false; }
  // When true, dL/d(input i) may share the memory of dL/d(output 0): calc_derivative must
  // be correct with input_grad(i) and output_grad(0) the same array, and nothing in
  // backward may read output_grad(0) after calc_derivative (calc_gradient runs before).
  virtual bool supports_in_place_derivative(size_t /*i*/) const { return false; }

  // True when every output is input 0 seen with another shape (flatten, reshape, the
  // graph's fan-out node). The graph then binds outputs to the input's memory and does
  // not call forward; with a single output the input gradient likewise aliases the
  // output gradient and calc_derivative is not called.
  virtual bool output_is_input_view() const { return false; }

  // Loss layers end the graph: input 0 is the prediction, with a label of the same shape;
  // one 1:1:1:1 output (the batch-mean loss); calc_derivative writes dL/d(prediction).
  // A loss may take further inputs without labels (vae_loss: mean and log-variance), to
  // each of which it also writes the gradient when needs_input_grad(i).
  virtual bool is_loss() const { return false; }
  // Whether a loss's label marks classes along the width (one-hot, or per-class targets),
  // so that the arg-max accuracy of its prediction means something. False for losses
  // whose label is, say, an image (vae_loss); training and evaluation then report no
  // accuracy.
  virtual bool label_is_class() const { return is_loss(); }
};

// Factory registry: type name -> new layer. Built-in layers and losses are registered
// in src/layers/registry.cpp; applications may add their own.
using LayerFactory = std::function<std::unique_ptr<Layer>()>;
void register_layer_type(const std::string& type, LayerFactory factory);
// Throws UnknownTypeError listing the registered types.
std::unique_ptr<Layer> make_layer(const std::string& type);
std::vector<std::string> registered_layer_types();

}  // namespace edgetrain
