#include "edgetrain/layer.h"

#include <cstdint>

#include "edgetrain/error.h"

namespace edgetrain {

FinalizeContext::FinalizeContext(std::string layer_name, std::string layer_type, size_t batch,
                                 std::vector<TensorShape> input_shapes,
                                 std::vector<std::string> input_names, bool trainable)
    : layer_name_(std::move(layer_name)),
      layer_type_(std::move(layer_type)),
      batch_(batch),
      input_shapes_(std::move(input_shapes)),
      input_names_(std::move(input_names)),
      trainable_(trainable) {}

std::string FinalizeContext::owner() const {
  return "layer '" + layer_name_ + "' (" + layer_type_ + ")";
}

const TensorShape& FinalizeContext::input_shape(size_t i) const {
  ET_ASSERT(i < input_shapes_.size(), owner() + " asked for a missing input");
  return input_shapes_[i];
}

const std::string& FinalizeContext::input_name(size_t i) const {
  ET_ASSERT(i < input_names_.size(), owner() + " asked for a missing input");
  return input_names_[i];
}

void FinalizeContext::expect_inputs(size_t min_inputs, size_t max_inputs) const {
  if (num_inputs() >= min_inputs && num_inputs() <= max_inputs) return;
  std::string expected = min_inputs == max_inputs ? std::to_string(min_inputs)
                         : max_inputs == SIZE_MAX
                             ? "at least " + std::to_string(min_inputs)
                             : std::to_string(min_inputs) + " to " + std::to_string(max_inputs);
  throw ShapeError(owner() + " has " + std::to_string(num_inputs()) + " inputs, expected " +
                   expected + " (set input_layers)");
}

void FinalizeContext::shape_error(size_t i, const std::string& expected) const {
  throw ShapeError(owner() + ": input " + std::to_string(i) + " from layer '" + input_name(i) +
                   "' has shape " + input_shape(i).str() + ", expected " + expected);
}

size_t FinalizeContext::request_weight(WeightSpec spec) {
  weights_.push_back(std::move(spec));
  return weights_.size() - 1;
}

size_t FinalizeContext::request_tensor(std::string name, TensorShape shape, Lifespan lifespan) {
  tensors_.push_back({std::move(name), shape, lifespan});
  return tensors_.size() - 1;
}

bool Layer::set_property(const std::string&, const std::string&, const std::string&) {
  return false;
}

}  // namespace edgetrain
