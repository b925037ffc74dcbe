// conv2dtranspose: 2-D transposed convolution as torch.nn.ConvTranspose2d (the adjoint of
// conv2d, a.k.a. "deconvolution"; NNTrainer's conv2dtranspose, Keras's Conv2DTranspose).
// Each input pixel scatters a weighted copy of the kernel into the output.
//   input  N:C:H:W  ->  output N:filters:OH:OW
//   weight C:(filters/groups):kH:kW (PyTorch's layout), bias 1:1:1:filters
//   OH = (H - 1) * stride_h - pad_top - pad_bottom + dilation_h * (kH - 1) + output_padding_h + 1,
//   the same for OW.
// Computed per sample and per group as one GEMM followed by col2im:
//   columns_g[(filters/groups)*kH*kW x H*W] = W_g^T * X_g, then col2im(columns_g) into the
// output. The geometry is the one of the conv2d that maps the output back to the input, so
// backward is conv2d's forward: im2col(dY) and two GEMMs.
// Properties:
//   filters (required), kernel_size (required; "3" or "3,3"),
//   stride (1,1), dilation (1,1), groups (1; groups = C gives one group per input channel),
//   padding (valid): PyTorch's padding, the rows/columns REMOVED from each side of the full
//     (H - 1) * stride + dilation * (kH - 1) + 1 output: "valid" = 0, "p" = all sides,
//     "ph,pw" = symmetric per axis, "top,bottom,left,right"; "same" gives OH = H * stride
//     (Keras's and TensorFlow's "same"): the removed dilation * (kH - 1) + 1 - stride rows are
//     split with the odd one at the bottom, or, when the kernel is smaller than the stride,
//     stride - (dilation * (kH - 1) + 1) zero rows are added at the bottom. With stride 1
//     this equals NNTrainer's "same"; for stride > 1 NNTrainer's output is not H * stride.
//   output_padding (0,0): rows/columns added at the bottom/right (with any padding); each
//     must be smaller than the stride or the dilation of its axis, as in PyTorch,
//   bias (true; NNTrainer's disable_bias=true also works), weight_initializer
//   (xavier_uniform), bias_initializer (zeros), activation (none).
// Memory: one sample's columns of one group, (filters/groups * kH * kW) x (H * W), as forward
// scratch and again as backward scratch; per-sample bias sums (N x filters) and, with a
// fused activation, dL/dZ of one sample as backward scratch. A fused relu, leaky_relu,
// relu6 or hard_sigmoid keeps one bit per output value instead of the output.
#pragma once

#include <array>

#include "edgetrain/layer.h"
#include "kernels/im2col.h"
#include "layers/conv_properties.h"

namespace edgetrain {

class Conv2DTransposeLayer : public Layer, private ConvProperties {
 public:
  std::string type() const override { return "conv2dtranspose"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  void calc_gradient(RunContext& context) override;
  // Only calc_gradient reads the input (dW = X * im2col(dY)^T); a frozen layer does not.
  bool backward_needs_input(size_t) const override { return trainable_; }
  bool forward_is_repeatable() const override { return true; }
  bool derivative_needs_input(size_t) const override { return false; }
  bool backward_needs_output(size_t) const override { return activation_.needs_output(); }

 private:
  void check_properties(const FinalizeContext& context) const;
  kernels::ConvGeometry make_geometry(const FinalizeContext& context) const;
  void declare_tensors(FinalizeContext& context, const TensorShape& output);

  std::array<size_t, 2> output_padding_ = {0, 0};

  // Set by finalize. geometry_ is the conv2d from the output (its image) to the input (its
  // output positions): im2col of an output-shaped tensor gives H * W columns.
  kernels::ConvGeometry geometry_;
  size_t group_channels_ = 0;    // C / groups
  size_t group_filters_ = 0;     // filters / groups
  size_t column_rows_ = 0;       // filters / groups * kH * kW: rows of a weight row-block
  size_t positions_ = 0;         // H * W, input positions
  size_t output_positions_ = 0;  // OH * OW
  bool trainable_ = true;
  size_t forward_columns_ = 0;  // tensor indices
  size_t backward_columns_ = 0;
  int bias_sums_ = -1;  // per-sample channel sums of dL/dZ for the bias gradient
};

}  // namespace edgetrain
