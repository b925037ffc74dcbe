#include "layers/concat.h"

#include <algorithm>
#include <array>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {
namespace {

constexpr std::array<const char*, 4> kAxisNames = {"batch", "channel", "height", "width"};

// Elements from dimension `axis` on, i.e. one block of a row.
size_t block_size(const TensorShape& shape, size_t axis) {
  const std::array<size_t, 4> dims = shape.dims();
  size_t size = 1;
  for (size_t d = axis; d < dims.size(); ++d) size *= dims[d];
  return size;
}

}  // namespace

bool ConcatLayer::set_property(const std::string& key, const std::string& value,
                               const std::string& owner) {
  if (key != "axis") return false;
  axis_ = std::stoul(parse_choice(value, {"1", "2", "3"}, owner, key));
  return true;
}

void ConcatLayer::check_shapes(const FinalizeContext& context) const {
  const std::array<size_t, 4> first = context.input_shape(0).dims();
  for (size_t i = 1; i < context.num_inputs(); ++i) {
    const std::array<size_t, 4> dims = context.input_shape(i).dims();
    bool same = true;
    std::string pattern;  // input 0's shape with '*' on the axis
    for (size_t d = 0; d < dims.size(); ++d) {
      if (d != axis_) same = same && dims[d] == first[d];
      pattern += (d == 0 ? "" : ":") + (d == axis_ ? std::string("*") : std::to_string(first[d]));
    }
    if (!same)
      context.shape_error(i, pattern + " as input 0 from layer '" + context.input_name(0) +
                                 "' has: concat along axis " + std::to_string(axis_) + " (" +
                                 kAxisNames[axis_] + ") needs every other dimension equal");
  }
}

void ConcatLayer::finalize(FinalizeContext& context) {
  if (context.num_inputs() < 2)
    throw ShapeError(context.owner() + " has " + std::to_string(context.num_inputs()) +
                     " input(s), expected at least 2 (set input_layers)");
  check_shapes(context);
  std::array<size_t, 4> output = context.input_shape(0).dims();
  output[axis_] = 0;
  input_blocks_.clear();
  for (size_t i = 0; i < context.num_inputs(); ++i) {
    output[axis_] += context.input_shape(i).dims()[axis_];
    input_blocks_.push_back(block_size(context.input_shape(i), axis_));
  }
  const TensorShape output_shape(output[0], output[1], output[2], output[3]);
  output_block_ = block_size(output_shape, axis_);
  context.set_output_shape(output_shape);
}

void ConcatLayer::forward(RunContext& context) {
  Tensor& output = context.output();
  const size_t rows = output.size() / output_block_;
  size_t offset = 0;  // of input i's block within an output block
  for (size_t i = 0; i < context.num_inputs(); ++i) {
    const float* input = context.input(i).data();
    const size_t block = input_blocks_[i];
    for (size_t r = 0; r < rows; ++r)
      std::copy_n(input + r * block, block, output.data() + r * output_block_ + offset);
    offset += block;
  }
}

void ConcatLayer::calc_derivative(RunContext& context) {
  const Tensor& output_grad = context.output_grad();
  const size_t rows = output_grad.size() / output_block_;
  size_t offset = 0;
  for (size_t i = 0; i < context.num_inputs(); ++i) {
    const size_t block = input_blocks_[i];
    if (context.needs_input_grad(i)) {
      float* input_grad = context.input_grad(i).data();
      for (size_t r = 0; r < rows; ++r)
        std::copy_n(output_grad.data() + r * output_block_ + offset, block, input_grad + r * block);
    }
    offset += block;
  }
}

}  // namespace edgetrain
