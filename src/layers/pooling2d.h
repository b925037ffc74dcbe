// pooling2d: max or average pooling over H:W windows of each channel, as
// torch.nn.MaxPool2d / AvgPool2d (ceil_mode=False), or over the whole plane, as
// torch.nn.AdaptiveMaxPool2d(1) / AdaptiveAvgPool2d(1).
//   input N:C:H:W  ->  output N:C:OH:OW,  OH = (H + pad_top + pad_bottom - pool_h) / stride_h + 1
//   global_max, global_average: output N:C:1:1
// Properties:
//   pooling    max | average | global_max | global_average (required)
//   pool_size  P or PH,PW (default 2,2)
//   stride     S or SH,SW (default pool_size, as PyTorch; NNTrainer's default is 1,1)
//   padding    valid (default) | same | P | PH,PW (PH top and bottom, PW left and right)
//              | top,bottom,left,right
//              same: OH = ceil(H / stride_h), the odd padding row or column at the bottom
//              or right (as NNTrainer and TensorFlow).
//   The global poolings take none of pool_size, stride or padding.
// Padding counts as -inf for max pooling and as 0 for average pooling, which always divides
// by the whole window PH*PW: PyTorch's count_include_pad=True, for explicit and same padding
// alike (NNTrainer, and TensorFlow for "same", divide by the input pixels only). As in
// PyTorch, no side may be padded by more than half the pool size, so every window holds at
// least one input pixel.
// On ties the gradient goes to the first maximum in row-major order, as PyTorch (NNTrainer's
// global_max shares it among ties).
// Backward reads neither the input nor the output: max pooling saves the position of each
// window's maximum in forward (a byte per output for windows of up to 256 pixels).
#pragma once

#include <array>
#include <optional>
#include <vector>

#include "edgetrain/layer.h"
#include "layers/padding2d.h"

namespace edgetrain {

class Pooling2DLayer : public Layer {
 public:
  std::string type() const override { return "pooling2d"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override;
  void finalize(FinalizeContext& context) override;
  void forward(RunContext& context) override;
  void calc_derivative(RunContext& context) override;
  bool backward_needs_input(size_t) const override { return false; }
  bool forward_is_repeatable() const override { return true; }

 private:
  enum class Pooling { max, average, global_max, global_average };

  // Input rows [h_begin, h_end) and columns [w_begin, w_end) under one window, padding
  // excluded.
  struct Window {
    size_t h_begin, h_end, w_begin, w_end;
  };

  // Window placement on one H:W plane, fixed by finalize.
  struct Geometry {
    size_t in_h = 0, in_w = 0, out_h = 0, out_w = 0;
    size_t pool_h = 0, pool_w = 0, stride_h = 0, stride_w = 0;
    size_t pad_top = 0, pad_left = 0;

    Window window(size_t oh, size_t ow) const;
    // Calls visit(plane, output_index, window) for every output of `planes` planes;
    // different planes may be visited on different threads at once.
    template <typename Visit>
    void for_each_window(size_t planes, Visit visit) const;
  };

  // Position h * W + w of the largest input under `window`: the first on ties, and NaN
  // wins, both as in PyTorch (so that a diverging input shows in the output).
  static size_t argmax_in_window(const float* plane, size_t in_w, const Window& window);

  bool is_max() const;
  Geometry resolve_geometry(const FinalizeContext& context) const;
  void forward_max(RunContext& context) const;
  void forward_average(RunContext& context) const;
  void derivative_max(RunContext& context) const;
  void derivative_average(RunContext& context) const;

  std::optional<Pooling> pooling_;
  std::optional<std::array<size_t, 2>> pool_size_;
  std::optional<std::array<size_t, 2>> stride_;
  std::optional<Padding2D> padding_;  // "same" is resolved against the input in finalize
  Geometry geometry_;
  // The index of the argmax tensor (max pooling). With windows of at most 256 pixels
  // (byte_argmax_), one byte per output, 4 to a float's memory: the maximum's index in
  // its (clipped) window, row-major with row length pool_w. Otherwise N:C:OH:OW positions
  // h * W + w in the input plane, stored as float: float holds integers exactly up to
  // 2^24, which bounds H * W (checked in finalize).
  size_t argmax_ = 0;
  bool byte_argmax_ = false;
  bool two_by_two_ = false;  // max, 2x2, stride 2, no padding: a vectorized row kernel
  std::vector<size_t>
      window_offsets_;  // byte_argmax_: window index -> (k / pool_w) * W + k % pool_w
};

}  // namespace edgetrain
