#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model.h"
#include "edgetrain/rng.h"
#include "support/golden.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {
namespace {

// One convolution, described both as conv2d properties and as the numbers the direct
// reference below needs. `padding` is the property value; `pads` (top, bottom, left,
// right) is what it must resolve to.
struct ConvCase {
  std::string name;
  TensorShape input;
  size_t filters;
  std::array<size_t, 2> kernel;
  std::array<size_t, 2> stride = {1, 1};
  std::array<size_t, 2> dilation = {1, 1};
  size_t groups = 1;
  std::string padding = "valid";
  std::array<size_t, 4> pads = {0, 0, 0, 0};
  bool bias = true;

  std::vector<std::string> properties() const {
    auto pair = [](const std::array<size_t, 2>& p) {
      return std::to_string(p[0]) + "," + std::to_string(p[1]);
    };
    return {"filters=" + std::to_string(filters),
            "kernel_size=" + pair(kernel),
            "stride=" + pair(stride),
            "dilation=" + pair(dilation),
            "groups=" + std::to_string(groups),
            "padding=" + padding,
            std::string("bias=") + (bias ? "true" : "false")};
  }
  size_t out_h() const {
    return (input.height + pads[0] + pads[1] - dilation[0] * (kernel[0] - 1) - 1) / stride[0] + 1;
  }
  size_t out_w() const {
    return (input.width + pads[2] + pads[3] - dilation[1] * (kernel[1] - 1) - 1) / stride[1] + 1;
  }
};

struct ConvResult {
  std::vector<double> output, input_grad, weight_grad, bias_grad;
};

// The definition of a (grouped, strided, dilated, padded) convolution and its gradients,
// one multiply-add at a time, in double precision.
ConvResult reference_conv(const ConvCase& c, const Tensor& x, const Tensor& w, const Tensor& b,
                          const std::vector<float>& dy) {
  const size_t out_h = c.out_h(), out_w = c.out_w();
  const size_t group_channels = c.input.channel / c.groups;
  const size_t group_filters = c.filters / c.groups;
  ConvResult r;
  r.output.assign(c.input.batch * c.filters * out_h * out_w, 0.0);
  r.input_grad.assign(x.size(), 0.0);
  r.weight_grad.assign(w.size(), 0.0);
  r.bias_grad.assign(c.filters, 0.0);
  for (size_t n = 0; n < c.input.batch; ++n) {
    for (size_t o = 0; o < c.filters; ++o) {
      const size_t group = o / group_filters;
      for (size_t oh = 0; oh < out_h; ++oh) {
        for (size_t ow = 0; ow < out_w; ++ow) {
          const size_t at = ((n * c.filters + o) * out_h + oh) * out_w + ow;
          const double grad = dy[at];
          if (c.bias) {
            r.output[at] += b[o];
            r.bias_grad[o] += grad;
          }
          for (size_t ci = 0; ci < group_channels; ++ci) {
            const size_t channel = group * group_channels + ci;
            for (size_t ki = 0; ki < c.kernel[0]; ++ki) {
              for (size_t kj = 0; kj < c.kernel[1]; ++kj) {
                const long ih = static_cast<long>(oh * c.stride[0] + ki * c.dilation[0]) -
                                static_cast<long>(c.pads[0]);
                const long iw = static_cast<long>(ow * c.stride[1] + kj * c.dilation[1]) -
                                static_cast<long>(c.pads[2]);
                if (ih < 0 || iw < 0 || ih >= static_cast<long>(c.input.height) ||
                    iw >= static_cast<long>(c.input.width))
                  continue;
                const size_t xi =
                    ((n * c.input.channel + channel) * c.input.height + ih) * c.input.width + iw;
                const size_t wi = ((o * group_channels + ci) * c.kernel[0] + ki) * c.kernel[1] + kj;
                r.output[at] += static_cast<double>(x[xi]) * w[wi];
                r.input_grad[xi] += grad * w[wi];
                r.weight_grad[wi] += grad * x[xi];
              }
            }
          }
        }
      }
    }
  }
  return r;
}

void fill_uniform(Tensor tensor, Rng& rng) {
  for (float& value : tensor) value = rng.uniform(-1.0f, 1.0f);
}

void expect_close_to(const float* actual, const std::vector<double>& expected,
                     const TensorShape& shape, const std::string& what) {
  GoldenTensor tensor{shape, std::vector<float>(expected.begin(), expected.end())};
  expect_close(actual, tensor, what);
}

// Runs the case through conv2d in a compiled graph and compares it with reference_conv.
void expect_matches_reference(const ConvCase& c) {
  SCOPED_TRACE(c.name);
  LayerHarness harness("conv2d", c.properties(), {c.input});
  const TensorShape expected_output(c.input.batch, c.filters, c.out_h(), c.out_w());
  ASSERT_EQ(harness.output().shape(), expected_output);
  Rng rng(11);
  fill_uniform(harness.input(), rng);
  fill_uniform(harness.weight("weight"), rng);
  Tensor bias = c.bias ? harness.weight("bias") : Tensor();
  if (c.bias) fill_uniform(bias, rng);
  // The input memory may be reused once the layer has read it: keep a copy.
  std::vector<float> input(harness.input().begin(), harness.input().end());
  harness.forward();
  std::vector<float> output_grad(expected_output.size());
  for (float& value : output_grad) value = rng.uniform(-1.0f, 1.0f);
  std::copy(output_grad.begin(), output_grad.end(), harness.output_grad().data());
  const ConvResult expected =
      reference_conv(c, Tensor(input.data(), c.input), harness.weight("weight"), bias, output_grad);
  expect_close_to(harness.output().data(), expected.output, expected_output, "output");
  harness.backward();
  expect_close_to(harness.input_grad().data(), expected.input_grad, c.input, "input_grad");
  expect_close_to(harness.weight_grad("weight").data(), expected.weight_grad,
                  harness.weight("weight").shape(), "weight_grad");
  if (c.bias)
    expect_close_to(harness.weight_grad("bias").data(), expected.bias_grad,
                    TensorShape(1, 1, 1, c.filters), "bias_grad");
}

// Expects building conv2d with `properties` on `input` to throw ErrorType with a message
// naming the layer and containing every fragment.
template <typename ErrorType>
void expect_error(const std::vector<std::string>& properties, const TensorShape& input,
                  const std::vector<std::string>& fragments) {
  try {
    LayerHarness harness("conv2d", properties, {input});
    ADD_FAILURE() << "expected an error";
  } catch (const ErrorType& error) {
    const std::string message = error.what();
    EXPECT_NE(message.find("under_test"), std::string::npos) << message;
    for (const std::string& fragment : fragments)
      EXPECT_NE(message.find(fragment), std::string::npos)
          << "'" << fragment << "' in: " << message;
  }
}

}  // namespace

TEST(Conv2D, MatchesPyTorch) { run_layer_golden_file("conv2d.txt"); }

TEST(Conv2D, MatchesDirectConvolution) {
  const std::vector<ConvCase> cases = {
      {.name = "3x3 pad 1",
       .input = {2, 3, 6, 5},
       .filters = 4,
       .kernel = {3, 3},
       .padding = "1",
       .pads = {1, 1, 1, 1}},
      {.name = "1x1 pointwise", .input = {2, 4, 3, 5}, .filters = 3, .kernel = {1, 1}},
      {.name = "1x1 pointwise groups 2",
       .input = {2, 4, 3, 3},
       .filters = 6,
       .kernel = {1, 1},
       .groups = 2},
      {.name = "1x1 stride 2",
       .input = {1, 3, 5, 6},
       .filters = 2,
       .kernel = {1, 1},
       .stride = {2, 2}},
      {.name = "stride 2,3 kernel 3x2",
       .input = {2, 2, 9, 10},
       .filters = 3,
       .kernel = {3, 2},
       .stride = {2, 3}},
      {.name = "asymmetric padding",
       .input = {1, 2, 5, 4},
       .filters = 2,
       .kernel = {3, 3},
       .padding = "2,0,1,3",
       .pads = {2, 0, 1, 3}},
      {.name = "dilation 2,3",
       .input = {1, 2, 8, 9},
       .filters = 2,
       .kernel = {3, 3},
       .dilation = {2, 3},
       .padding = "1,2",
       .pads = {1, 1, 2, 2}},
      {.name = "same stride 2",
       .input = {2, 2, 8, 7},
       .filters = 3,
       .kernel = {3, 3},
       .stride = {2, 2},
       .padding = "same",
       .pads = {0, 1, 1, 1}},
      {.name = "same dilation 2 stride 2",
       .input = {1, 2, 8, 7},
       .filters = 2,
       .kernel = {3, 3},
       .stride = {2, 2},
       .dilation = {2, 2},
       .padding = "same",
       .pads = {1, 2, 2, 2}},
      {.name = "same kernel larger than input",
       .input = {1, 1, 2, 3},
       .filters = 2,
       .kernel = {5, 5},
       .padding = "same",
       .pads = {2, 2, 2, 2}},
      {.name = "groups 3",
       .input = {2, 6, 4, 4},
       .filters = 3,
       .kernel = {3, 3},
       .groups = 3,
       .padding = "1",
       .pads = {1, 1, 1, 1}},
      {.name = "depthwise x2",
       .input = {2, 3, 5, 5},
       .filters = 6,
       .kernel = {3, 3},
       .stride = {2, 2},
       .groups = 3,
       .padding = "1",
       .pads = {1, 1, 1, 1}},
      {.name = "no bias", .input = {3, 2, 4, 4}, .filters = 2, .kernel = {2, 2}, .bias = false},
  };
  for (const ConvCase& c : cases) {
    expect_matches_reference(c);
    // One image runs in parts across the threads (output rows, input channels).
    ConvCase one = c;
    one.name += ", batch 1";
    one.input.batch = 1;
    expect_matches_reference(one);
  }
}

TEST(Conv2D, SamePaddingKeepsCeilOfInputOverStride) {
  struct Case {
    std::vector<std::string> properties;
    TensorShape input, output;
  };
  const std::vector<Case> cases = {
      {{"filters=2", "kernel_size=3", "padding=same"}, {1, 1, 7, 9}, {1, 2, 7, 9}},
      {{"filters=2", "kernel_size=3", "stride=2", "padding=same"}, {1, 1, 7, 8}, {1, 2, 4, 4}},
      {{"filters=2", "kernel_size=4,2", "stride=3,2", "padding=same"}, {1, 1, 7, 5}, {1, 2, 3, 3}},
      {{"filters=2", "kernel_size=3", "dilation=2", "padding=same"}, {1, 1, 6, 5}, {1, 2, 6, 5}},
      {{"filters=2", "kernel_size=3", "dilation=3", "stride=2", "padding=same"},
       {1, 1, 9, 4},
       {1, 2, 5, 2}},
  };
  for (const Case& c : cases) {
    LayerHarness harness("conv2d", c.properties, {c.input});
    EXPECT_EQ(harness.output().shape(), c.output) << c.input.str();
  }
}

TEST(Conv2D, GradientsMatchFiniteDifferences) {
  const std::vector<std::vector<std::string>> configurations = {
      {"filters=3", "kernel_size=3,3", "padding=1"},
      {"filters=2", "kernel_size=1,1"},
      {"filters=4", "kernel_size=3,3", "groups=2", "padding=1"},  // depthwise, multiplier 2
      {"filters=4", "kernel_size=3,3", "groups=2", "dilation=2", "padding=same"},
      {"filters=3", "kernel_size=3,3", "stride=2", "padding=same"},
      {"filters=2", "kernel_size=3,2", "stride=2,1", "padding=0,1,2,1"},
      {"filters=4", "kernel_size=3,3", "groups=2", "stride=2", "padding=1", "bias=false"},
  };
  for (const std::vector<std::string>& properties : configurations) {
    SCOPED_TRACE(::testing::PrintToString(properties));
    for (size_t batch : {1, 2}) {
      LayerHarness harness("conv2d", properties, {TensorShape(batch, 2, 5, 6)});
      expect_gradients_match(harness);
    }
  }
}

TEST(Conv2D, FusedActivationGradients) {
  for (const char* activation : {"relu", "sigmoid", "swish", "gelu"}) {
    SCOPED_TRACE(activation);
    LayerHarness harness(
        "conv2d",
        {"filters=3", "kernel_size=3", "padding=same", std::string("activation=") + activation},
        {TensorShape(2, 2, 4, 5)});
    expect_gradients_match(harness);
  }
}

// A frozen conv computes no weight gradient and does not keep its input for backward,
// yet still passes the right gradient to its input.
TEST(Conv2D, FrozenLayerHasNoWeightGradient) {
  const std::vector<std::string> properties = {"filters=3", "kernel_size=3", "padding=1"};
  const TensorShape input(2, 2, 4, 4);
  LayerHarness trained("conv2d", properties, {input}, 1, true);
  LayerHarness frozen("conv2d", properties, {input}, 1, false);
  for (LayerHarness* harness : {&trained, &frozen}) {
    Rng rng(2);
    fill_uniform(harness->input(), rng);
    harness->forward();
    fill_uniform(harness->output_grad(), rng);
    harness->backward();
  }
  // The planner may reuse the frozen layer's input once forward is done.
  auto input_last_step = [](const LayerHarness& harness) {
    return harness.graph().tensors[harness.graph().input_tensors[0]].last;
  };
  EXPECT_LT(input_last_step(frozen), frozen.graph().forward_steps);
  EXPECT_GE(input_last_step(trained), trained.graph().forward_steps);
  EXPECT_TRUE(frozen.weight_grad("weight").empty());
  EXPECT_TRUE(frozen.weight_grad("bias").empty());
  EXPECT_FALSE(trained.weight_grad("weight").empty());
  const Tensor expected = trained.input_grad();
  expect_close_to(frozen.input_grad().data(), std::vector<double>(expected.begin(), expected.end()),
                  input, "frozen input_grad");
}

// A last partial batch runs on the first samples only: one step on 2 samples of a model
// compiled for 3 equals one step of a model compiled for 2.
TEST(Conv2D, PartialBatchMatchesSmallerCompiledBatch) {
  auto make_model = [](size_t batch) {
    auto model = std::make_unique<Model>(
        std::vector<std::string>{"batch_size=" + std::to_string(batch), "loss=mse", "seed=4"});
    model->addLayer(createLayer("conv2d", {"name=conv", "input_shape=2:5:5", "filters=3",
                                           "kernel_size=3", "stride=2", "padding=same"}));
    model->setOptimizer(createOptimizer("sgd", {"learning_rate=0.5"}));
    model->compile();
    model->initialize();
    return model;
  };
  std::unique_ptr<Model> large = make_model(3), small = make_model(2);
  Rng rng(9);
  std::vector<Tensor> small_data = {small->inputs()[0], small->labels()[0]};
  std::vector<Tensor> large_data = {large->inputs()[0], large->labels()[0]};
  for (size_t t = 0; t < small_data.size(); ++t) {
    large_data[t].fill(100.0f);  // the third sample, which must not be read
    fill_uniform(small_data[t], rng);
    std::copy(small_data[t].begin(), small_data[t].end(), large_data[t].data());
  }
  EXPECT_FLOAT_EQ(large->trainStep(2), small->trainStep());
  for (const char* name : {"weight", "bias"}) {
    const Tensor expected = small->weight("conv", name);
    expect_close_to(large->weight("conv", name).data(),
                    std::vector<double>(expected.begin(), expected.end()), expected.shape(), name);
  }
}

TEST(Conv2D, MissingFiltersOrKernelSizeIsAnError) {
  expect_error<PropertyError>({"kernel_size=3"}, {1, 1, 5, 5}, {"'filters' is required"});
  expect_error<PropertyError>({"filters=2"}, {1, 1, 5, 5}, {"'kernel_size' is required"});
}

TEST(Conv2D, BadPropertyValuesAreErrors) {
  const std::vector<std::array<std::string, 3>> cases = {
      // property, the value as quoted, the expectation in the message
      {"filters=0", "'0'", "positive integer"},
      {"kernel_size=3,3,3", "'3,3,3'", "one or two positive integers"},
      {"kernel_size=0,3", "'0,3'", "positive integers"},
      {"stride=0", "'0'", "positive integers"},
      {"dilation=two", "'two'", "integer"},
      {"groups=0", "'0'", "positive integer"},
      {"padding=full", "'full'", "same, valid, or 1, 2 or 4"},
      {"padding=1,2,3", "'1,2,3'", "same, valid, or 1, 2 or 4"},
      {"padding=-1", "'-1'", "non-negative integers"},
      {"bias=maybe", "'maybe'", "true or false"},
      {"weight_initializer=magic", "'magic'", "xavier_uniform"},
      {"activation=wiggle", "'wiggle'", "relu"},
  };
  for (const auto& [property, value, expected] : cases) {
    SCOPED_TRACE(property);
    const std::string key = property.substr(0, property.find('='));
    expect_error<PropertyError>({"filters=2", "kernel_size=3", property}, {1, 1, 5, 5},
                                {"'" + key + "'", value, expected});
  }
}

TEST(Conv2D, UnknownPropertyListsTheKnownOnes) {
  expect_error<PropertyError>({"filters=2", "kernel_size=3", "kernel=3"}, {1, 1, 5, 5},
                              {"unknown property 'kernel'", "kernel_size", "padding", "groups"});
}

TEST(Conv2D, ChannelsNotDivisibleByGroupsIsAnError) {
  expect_error<ShapeError>({"filters=4", "kernel_size=3", "groups=2"}, {1, 3, 5, 5},
                           {"1:3:5:5", "divisible by groups=2"});
}

TEST(Conv2D, FiltersNotDivisibleByGroupsIsAnError) {
  expect_error<PropertyError>({"filters=3", "kernel_size=3", "groups=2"}, {1, 4, 5, 5},
                              {"filters=3", "groups=2"});
}

TEST(Conv2D, KernelLargerThanPaddedInputIsAnError) {
  expect_error<ShapeError>({"filters=2", "kernel_size=5,3"}, {1, 1, 4, 6},
                           {"1:1:4:6", "dilated kernel 5x3", "kernel_size=5,3"});
  expect_error<ShapeError>({"filters=2", "kernel_size=3", "dilation=4", "padding=1"}, {1, 1, 5, 5},
                           {"dilated kernel 9x9", "top 1"});
}

}  // namespace edgetrain::testing
