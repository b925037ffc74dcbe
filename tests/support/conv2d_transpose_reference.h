// The definition of a 2-D transposed convolution (torch.nn.ConvTranspose2d), one
// multiply-add at a time: every input pixel scatters its kernel, scaled, into the output.
// The tests compare conv2dtranspose with it (in double); the benchmark times it (in float).
#pragma once

#include <array>
#include <cstddef>

namespace edgetrain::testing {

// The numbers of one transposed convolution. pad_top / pad_left are the rows / columns
// removed from the top / left of the full output; out_h / out_w settle the rest (bottom
// and right padding, output_padding).
struct ConvTransposeSpec {
  size_t batch = 1, channels = 1, height = 1, width = 1;
  size_t filters = 1, groups = 1;
  std::array<size_t, 2> kernel = {1, 1}, stride = {1, 1}, dilation = {1, 1};
  size_t pad_top = 0, pad_left = 0;
  size_t out_h = 1, out_w = 1;

  // Calls visit(x index, w index, y index) for every input pixel, filter and kernel tap
  // that lands inside the output.
  template <typename Visit>
  void for_each_tap(Visit&& visit) const {
    const size_t group_channels = channels / groups, group_filters = filters / groups;
    for (size_t n = 0; n < batch; ++n) {
      for (size_t c = 0; c < channels; ++c) {
        const size_t first_filter = c / group_channels * group_filters;
        for (size_t ih = 0; ih < height; ++ih) {
          for (size_t iw = 0; iw < width; ++iw) {
            const size_t xi = ((n * channels + c) * height + ih) * width + iw;
            for (size_t fl = 0; fl < group_filters; ++fl) {
              const size_t plane = n * filters + first_filter + fl;
              for (size_t ki = 0; ki < kernel[0]; ++ki) {
                // Full-output row ih * stride + ki * dilation, minus the removed top rows.
                const long oh = static_cast<long>(ih * stride[0] + ki * dilation[0]) -
                                static_cast<long>(pad_top);
                if (oh < 0 || oh >= static_cast<long>(out_h)) continue;
                for (size_t kj = 0; kj < kernel[1]; ++kj) {
                  const long ow = static_cast<long>(iw * stride[1] + kj * dilation[1]) -
                                  static_cast<long>(pad_left);
                  if (ow < 0 || ow >= static_cast<long>(out_w)) continue;
                  visit(
                      xi, ((c * group_filters + fl) * kernel[0] + ki) * kernel[1] + kj,
                      (plane * out_h + static_cast<size_t>(oh)) * out_w + static_cast<size_t>(ow));
                }
              }
            }
          }
        }
      }
    }
  }
};

// y (batch * filters * out_h * out_w values) = conv_transpose(x, w) + b; b may be null.
template <typename Real>
void conv_transpose_forward_reference(const ConvTransposeSpec& s, const float* x, const float* w,
                                      const float* b, Real* y) {
  const size_t plane = s.out_h * s.out_w;
  for (size_t n = 0; n < s.batch; ++n)
    for (size_t f = 0; f < s.filters; ++f)
      for (size_t p = 0; p < plane; ++p) y[(n * s.filters + f) * plane + p] = b ? b[f] : Real(0);
  s.for_each_tap([&](size_t xi, size_t wi, size_t yi) {
    y[yi] += static_cast<Real>(x[xi]) * static_cast<Real>(w[wi]);
  });
}

// dx, dw and db (null to skip) from dy: each multiply-add of the forward, differentiated.
template <typename Real>
void conv_transpose_backward_reference(const ConvTransposeSpec& s, const float* x, const float* w,
                                       const float* dy, Real* dx, Real* dw, Real* db) {
  const size_t plane = s.out_h * s.out_w;
  const size_t weights = s.channels * (s.filters / s.groups) * s.kernel[0] * s.kernel[1];
  for (size_t i = 0; i < s.batch * s.channels * s.height * s.width; ++i) dx[i] = 0;
  for (size_t i = 0; i < weights; ++i) dw[i] = 0;
  s.for_each_tap([&](size_t xi, size_t wi, size_t yi) {
    dx[xi] += static_cast<Real>(dy[yi]) * static_cast<Real>(w[wi]);
    dw[wi] += static_cast<Real>(dy[yi]) * static_cast<Real>(x[xi]);
  });
  if (db == nullptr) return;
  for (size_t f = 0; f < s.filters; ++f) {
    db[f] = 0;
    for (size_t n = 0; n < s.batch; ++n)
      for (size_t p = 0; p < plane; ++p) db[f] += dy[(n * s.filters + f) * plane + p];
  }
}

}  // namespace edgetrain::testing
