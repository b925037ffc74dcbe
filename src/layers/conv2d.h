// conv2d: 2-D convolution (cross-correlation) as torch.nn.Conv2d, computed per sample
// and per group as im2col followed by one GEMM.
//   input  N:C:H:W  ->  output N:filters:OH:OW
//   weight filters:(C/groups):kH:kW (PyTorch's layout), bias 1:1:1:filters
//   OH = (H + pad_top + pad_bottom - dilation_h * (kH - 1) - 1) / stride_h + 1, same for OW.
// Properties:
//   filters (required), kernel_size (required; "3" or "3,3"),
//   stride (1,1), dilation (1,1), groups (1; groups = C with filters = k * C is depthwise),
//   padding (valid): "valid" = 0, "same" = output ceil(in / stride) with the total padding
//     split TensorFlow-style (the odd pixel goes to the bottom/right), "p" = all sides,
//     "ph,pw" = symmetric per axis, "top,bottom,left,right",
//   bias (true; NNTrainer's disable_bias=true also works), weight_initializer
//   (xavier_uniform), bias_initializer (zeros), activation (none).
// Memory: one sample's columns of one group, (C/groups * kH * kW) x (OH * OW), per thread
// of the per-sample loop (kernels/threads.h), as forward scratch and again as backward
// scratch; none for a 1x1 stride-1 unpadded convolution, whose columns are the input
// itself. Backward scratch also holds kGradientChunks - 1 weight-gradient partial sums,
// per-sample bias sums (N x filters) and, with a fused activation, dL/dZ of one sample per
// thread (computed inside the per-sample loops, not for the whole batch). A fused relu,
// leaky_relu, relu6 or hard_sigmoid keeps one bit per output value (whole 32-bit words
// per sample, written by the thread that computes the sample) instead of the output.
#pragma once

#include <array>

#include "edgetrain/layer.h"
#include "kernels/im2col.h"
#include "layers/conv_properties.h"

namespace edgetrain {

class Conv2DLayer : public Layer, private ConvProperties {
 public:
  std::string type() const override { return "conv2d"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  void calc_gradient(RunContext& context) override;
  // Only calc_gradient reads the input (to unfold it again); a frozen layer does not.
  bool backward_needs_input(size_t) const override { return trainable_; }
  bool forward_is_repeatable() const override { return true; }
  bool derivative_needs_input(size_t) const override { return false; }
  bool backward_needs_output(size_t) const override { return activation_.needs_output(); }

 private:
  kernels::ConvGeometry make_geometry(const FinalizeContext& context) const;
  void declare_tensors(FinalizeContext& context, const TensorShape& output);
  // The column matrix of group g of one sample: the input itself when pointwise_,
  // else `buffer` after im2col.
  const float* group_columns(const float* image, size_t g, float* buffer) const;
  // A batch of one image, cut into parts across the threads (conv2d.cpp).
  static constexpr size_t kImageParts = 4;
  static size_t image_parts(size_t extent);
  void forward_one_image(RunContext& context);
  void gradient_one_image(RunContext& context, bool weight, bool bias);
  void derivative_one_image(RunContext& context);
  // Backward's parts of one image: input channels [channel_begin, + channels) of every
  // group, rows [row_begin, + rows) of the column matrix, and their block of the columns
  // (null when pointwise_); body(part) runs once per part across the threads.
  struct ChannelPart {
    size_t channel_begin, channels, row_begin, rows;
    float* block;
  };
  template <typename Body>
  void for_each_channel_part(float* columns, Body&& body) const;

  // Set by finalize.
  kernels::ConvGeometry geometry_;
  size_t group_channels_ = 0;  // C / groups
  size_t group_filters_ = 0;   // filters / groups
  size_t column_rows_ = 0;     // C / groups * kH * kW: the GEMM's inner dimension
  size_t positions_ = 0;       // OH * OW
  bool pointwise_ = false;     // 1x1, stride 1, no padding: im2col is the identity
  bool trainable_ = true;
  size_t slots_ = 1;            // threads of the per-sample loops, each with its own columns
  size_t gradient_chunks_ = 1;  // fixed chunks of the batch in the weight gradient
  int forward_columns_ = -1;    // tensor indices, -1 when pointwise_
  int backward_columns_ = -1;
  int weight_partials_ = -1;  // weight-gradient sums of chunks 1.., -1 with one chunk
  int bias_sums_ = -1;        // per-sample channel sums of dL/dZ for the bias gradient
};

}  // namespace edgetrain
