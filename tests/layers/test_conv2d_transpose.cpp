#include <gtest/gtest.h>

#include <array>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/rng.h"
#include "support/conv2d_transpose_reference.h"
#include "support/golden.h"
#include "support/layer_harness.h"
#include "support/partial_batch.h"

namespace edgetrain::testing {
namespace {

// One transposed convolution, described both as conv2dtranspose properties and as the
// numbers the direct reference needs: `padding` is the property value, `pad_top` /
// `pad_left` and `out_h` / `out_w` what it must resolve to.
struct Case {
  std::string name;
  TensorShape input;
  size_t filters;
  std::array<size_t, 2> kernel;
  std::array<size_t, 2> stride = {1, 1};
  std::array<size_t, 2> dilation = {1, 1};
  size_t groups = 1;
  std::string padding = "valid";
  std::string output_padding = "0";
  size_t pad_top = 0, pad_left = 0;
  size_t out_h = 0, out_w = 0;
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
            "output_padding=" + output_padding,
            std::string("bias=") + (bias ? "true" : "false")};
  }
  ConvTransposeSpec spec() const {
    return {.batch = input.batch,
            .channels = input.channel,
            .height = input.height,
            .width = input.width,
            .filters = filters,
            .groups = groups,
            .kernel = kernel,
            .stride = stride,
            .dilation = dilation,
            .pad_top = pad_top,
            .pad_left = pad_left,
            .out_h = out_h,
            .out_w = out_w};
  }
};

void fill_uniform(Tensor tensor, Rng& rng) {
  for (float& value : tensor) value = rng.uniform(-1.0f, 1.0f);
}

void expect_close_to(const float* actual, const std::vector<double>& expected,
                     const TensorShape& shape, const std::string& what) {
  GoldenTensor tensor{shape, std::vector<float>(expected.begin(), expected.end())};
  expect_close(actual, tensor, what);
}

// Runs the case through conv2dtranspose in a compiled graph and compares output and every
// gradient with the direct loops of support/conv2d_transpose_reference.h.
void expect_matches_reference(const Case& c) {
  SCOPED_TRACE(c.name);
  LayerHarness harness("conv2dtranspose", c.properties(), {c.input});
  const TensorShape output_shape(c.input.batch, c.filters, c.out_h, c.out_w);
  ASSERT_EQ(harness.output().shape(), output_shape);
  Rng rng(11);
  fill_uniform(harness.input(), rng);
  fill_uniform(harness.weight("weight"), rng);
  if (c.bias) fill_uniform(harness.weight("bias"), rng);
  // The input memory may be reused once the layer has read it: keep a copy.
  const std::vector<float> input(harness.input().begin(), harness.input().end());
  const float* bias = c.bias ? harness.weight("bias").data() : nullptr;
  const Tensor weight = harness.weight("weight");
  harness.forward();
  std::vector<float> output_grad(output_shape.size());
  for (float& value : output_grad) value = rng.uniform(-1.0f, 1.0f);
  std::copy(output_grad.begin(), output_grad.end(), harness.output_grad().data());

  const ConvTransposeSpec spec = c.spec();
  std::vector<double> output(output_shape.size()), input_grad(input.size()),
      weight_grad(weight.size()), bias_grad(c.filters);
  conv_transpose_forward_reference(spec, input.data(), weight.data(), bias, output.data());
  conv_transpose_backward_reference(spec, input.data(), weight.data(), output_grad.data(),
                                    input_grad.data(), weight_grad.data(), bias_grad.data());
  expect_close_to(harness.output().data(), output, output_shape, "output");
  harness.backward();
  expect_close_to(harness.input_grad().data(), input_grad, c.input, "input_grad");
  expect_close_to(harness.weight_grad("weight").data(), weight_grad, weight.shape(), "weight_grad");
  if (c.bias)
    expect_close_to(harness.weight_grad("bias").data(), bias_grad, TensorShape(1, 1, 1, c.filters),
                    "bias_grad");
}

// Expects building conv2dtranspose with `properties` on `input` to throw ErrorType with a
// message naming the layer and containing every fragment.
template <typename ErrorType>
void expect_error(const std::vector<std::string>& properties, const TensorShape& input,
                  const std::vector<std::string>& fragments) {
  try {
    LayerHarness harness("conv2dtranspose", properties, {input});
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

TEST(Conv2DTranspose, MatchesPyTorch) { run_layer_golden_file("conv2d_transpose.txt"); }

TEST(Conv2DTranspose, MatchesDirectLoops) {
  const std::vector<Case> cases = {
      {.name = "3x3 valid",
       .input = {2, 3, 4, 5},
       .filters = 2,
       .kernel = {3, 3},
       .out_h = 6,
       .out_w = 7},
      {.name = "1x1",
       .input = {2, 3, 3, 2},
       .filters = 4,
       .kernel = {1, 1},
       .out_h = 3,
       .out_w = 2},
      {.name = "stride 2 pad 1 output_padding 1",
       .input = {2, 2, 4, 3},
       .filters = 3,
       .kernel = {3, 3},
       .stride = {2, 2},
       .padding = "1",
       .output_padding = "1",
       .pad_top = 1,
       .pad_left = 1,
       .out_h = 8,
       .out_w = 6},
      {.name = "stride 3 kernel 2: gaps",
       .input = {1, 2, 3, 4},
       .filters = 2,
       .kernel = {2, 2},
       .stride = {3, 3},
       .output_padding = "2,1",
       .out_h = 10,
       .out_w = 12},
      {.name = "stride 2,3 kernel 3x2 asymmetric padding",
       .input = {2, 2, 4, 5},
       .filters = 3,
       .kernel = {3, 2},
       .stride = {2, 3},
       .padding = "2,0,1,3",
       .output_padding = "1,2",
       .pad_top = 2,
       .pad_left = 1,
       .out_h = 8,
       .out_w = 12},
      {.name = "padding larger than output_padding gives rows back",
       .input = {1, 1, 3, 3},
       .filters = 2,
       .kernel = {3, 3},
       .stride = {2, 2},
       .padding = "2",
       .output_padding = "1",
       .pad_top = 2,
       .pad_left = 2,
       .out_h = 4,
       .out_w = 4},
      {.name = "dilation 2 output_padding 1 at stride 1",
       .input = {2, 2, 4, 3},
       .filters = 2,
       .kernel = {3, 3},
       .dilation = {2, 2},
       .padding = "1",
       .output_padding = "1",
       .pad_top = 1,
       .pad_left = 1,
       .out_h = 7,
       .out_w = 6},
      {.name = "dilation 3,2 stride 2",
       .input = {1, 2, 3, 4},
       .filters = 2,
       .kernel = {2, 3},
       .stride = {2, 2},
       .dilation = {3, 2},
       .out_h = 8,
       .out_w = 11},
      {.name = "same stride 2 kernel 3",
       .input = {2, 2, 3, 4},
       .filters = 2,
       .kernel = {3, 3},
       .stride = {2, 2},
       .padding = "same",
       .out_h = 6,
       .out_w = 8},
      {.name = "same stride 2 kernel 4",
       .input = {1, 2, 3, 4},
       .filters = 2,
       .kernel = {4, 4},
       .stride = {2, 2},
       .padding = "same",
       .pad_top = 1,
       .pad_left = 1,
       .out_h = 6,
       .out_w = 8},
      {.name = "same stride 3 kernel 2: zero rows added",
       .input = {1, 2, 2, 3},
       .filters = 2,
       .kernel = {2, 2},
       .stride = {3, 3},
       .padding = "same",
       .out_h = 6,
       .out_w = 9},
      {.name = "groups 2",
       .input = {2, 4, 3, 3},
       .filters = 6,
       .kernel = {3, 3},
       .stride = {2, 2},
       .groups = 2,
       .padding = "1",
       .pad_top = 1,
       .pad_left = 1,
       .out_h = 5,
       .out_w = 5},
      {.name = "groups = channels",
       .input = {2, 3, 4, 4},
       .filters = 3,
       .kernel = {3, 3},
       .groups = 3,
       .padding = "1",
       .pad_top = 1,
       .pad_left = 1,
       .out_h = 4,
       .out_w = 4},
      {.name = "no bias",
       .input = {3, 2, 3, 3},
       .filters = 2,
       .kernel = {2, 2},
       .stride = {2, 2},
       .out_h = 6,
       .out_w = 6,
       .bias = false},
      {.name = "VAE decoder 1",
       .input = {4, 8, 7, 7},
       .filters = 4,
       .kernel = {4, 4},
       .stride = {2, 2},
       .padding = "1",
       .pad_top = 1,
       .pad_left = 1,
       .out_h = 14,
       .out_w = 14},
      {.name = "VAE decoder 2",
       .input = {4, 4, 14, 14},
       .filters = 1,
       .kernel = {4, 4},
       .stride = {2, 2},
       .padding = "1",
       .pad_top = 1,
       .pad_left = 1,
       .out_h = 28,
       .out_w = 28},
  };
  for (const Case& c : cases) expect_matches_reference(c);
}

// "same" gives H * stride whatever the kernel; at stride 1 this is NNTrainer's "same".
TEST(Conv2DTranspose, OutputSizes) {
  struct SizeCase {
    std::vector<std::string> properties;
    TensorShape input, output;
  };
  const std::vector<SizeCase> cases = {
      {{"filters=2", "kernel_size=3"}, {1, 1, 5, 6}, {1, 2, 7, 8}},
      {{"filters=2", "kernel_size=3", "padding=same"}, {1, 1, 5, 6}, {1, 2, 5, 6}},
      {{"filters=2", "kernel_size=4", "padding=same"}, {1, 1, 5, 6}, {1, 2, 5, 6}},
      {{"filters=2", "kernel_size=3", "stride=2", "padding=same"}, {1, 1, 5, 6}, {1, 2, 10, 12}},
      {{"filters=2", "kernel_size=1", "stride=3", "padding=same"}, {1, 1, 5, 6}, {1, 2, 15, 18}},
      {{"filters=2", "kernel_size=3", "stride=2", "padding=same", "output_padding=1"},
       {1, 1, 5, 6},
       {1, 2, 11, 13}},
      {{"filters=2", "kernel_size=3", "stride=2,1", "padding=1,2"}, {1, 1, 5, 6}, {1, 2, 9, 4}},
      {{"filters=2", "kernel_size=3", "stride=2", "padding=1", "output_padding=1,0"},
       {1, 1, 5, 6},
       {1, 2, 10, 11}},
      {{"filters=2", "kernel_size=4", "stride=2", "padding=1"}, {1, 8, 7, 7}, {1, 2, 14, 14}},
  };
  for (const SizeCase& c : cases) {
    LayerHarness harness("conv2dtranspose", c.properties, {c.input});
    EXPECT_EQ(harness.output().shape(), c.output) << ::testing::PrintToString(c.properties);
  }
}

TEST(Conv2DTranspose, GradientsMatchFiniteDifferences) {
  const std::vector<std::vector<std::string>> configurations = {
      {"filters=3", "kernel_size=3", "padding=1"},
      {"filters=2", "kernel_size=3", "stride=2", "padding=1", "output_padding=1"},
      {"filters=2", "kernel_size=2", "stride=3"},
      {"filters=4", "kernel_size=3", "groups=2", "stride=2", "padding=same"},
      {"filters=2", "kernel_size=3,2", "stride=2,1", "padding=0,1,2,1", "dilation=1,2"},
      {"filters=2", "kernel_size=3", "dilation=2", "padding=2", "output_padding=1"},
      {"filters=2", "kernel_size=3", "groups=2", "padding=1", "bias=false"},
  };
  for (const std::vector<std::string>& properties : configurations) {
    SCOPED_TRACE(::testing::PrintToString(properties));
    LayerHarness harness("conv2dtranspose", properties, {TensorShape(2, 2, 3, 4)});
    expect_gradients_match(harness);
  }
}

TEST(Conv2DTranspose, FusedActivationGradients) {
  for (const char* activation : {"relu", "sigmoid", "swish", "gelu"}) {
    SCOPED_TRACE(activation);
    LayerHarness harness("conv2dtranspose",
                         {"filters=2", "kernel_size=3", "stride=2", "padding=same",
                          std::string("activation=") + activation},
                         {TensorShape(2, 2, 4, 3)});
    expect_gradients_match(harness);
  }
}

// A frozen layer computes no weight gradient and does not keep its input for backward,
// yet still passes the right gradient to its input.
TEST(Conv2DTranspose, FrozenLayerHasNoWeightGradient) {
  const std::vector<std::string> properties = {"filters=3", "kernel_size=3", "stride=2",
                                               "padding=1", "output_padding=1"};
  const TensorShape input(2, 2, 3, 3);
  LayerHarness trained("conv2dtranspose", properties, {input}, 1, true);
  LayerHarness frozen("conv2dtranspose", properties, {input}, 1, false);
  for (LayerHarness* harness : {&trained, &frozen}) {
    Rng rng(2);
    fill_uniform(harness->input(), rng);
    harness->forward();
    fill_uniform(harness->output_grad(), rng);
    harness->backward();
  }
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

// A last partial batch runs on the first samples only: the same step as a model compiled
// for that batch.
TEST(Conv2DTranspose, PartialBatchMatchesSmallerCompiledBatch) {
  expect_partial_batch_matches("conv2dtranspose",
                               {"filters=2", "kernel_size=3", "stride=2", "padding=1", "groups=2"},
                               TensorShape(1, 2, 3, 4), 4, 2);
}

TEST(Conv2DTranspose, MissingFiltersOrKernelSizeIsAnError) {
  expect_error<PropertyError>({"kernel_size=3"}, {1, 1, 5, 5}, {"'filters' is required"});
  expect_error<PropertyError>({"filters=2"}, {1, 1, 5, 5}, {"'kernel_size' is required"});
}

TEST(Conv2DTranspose, BadPropertyValuesAreErrors) {
  const std::vector<std::array<std::string, 3>> cases = {
      // property, the value as quoted, the expectation in the message
      {"filters=0", "'0'", "positive integer"},
      {"kernel_size=3,3,3", "'3,3,3'", "one or two positive integers"},
      {"stride=0", "'0'", "positive integers"},
      {"dilation=two", "'two'", "integer"},
      {"groups=0", "'0'", "positive integer"},
      {"padding=full", "'full'", "same, valid, or 1, 2 or 4"},
      {"output_padding=-1", "'-1'", "non-negative integer"},
      {"output_padding=1,1,1", "'1,1,1'", "one or two non-negative integers"},
      {"bias=maybe", "'maybe'", "true or false"},
      {"activation=wiggle", "'wiggle'", "relu"},
  };
  for (const auto& [property, value, expected] : cases) {
    SCOPED_TRACE(property);
    const std::string key = property.substr(0, property.find('='));
    expect_error<PropertyError>({"filters=2", "kernel_size=3", property}, {1, 1, 5, 5},
                                {"'" + key + "'", value, expected});
  }
}

TEST(Conv2DTranspose, UnknownPropertyListsTheKnownOnes) {
  expect_error<PropertyError>({"filters=2", "kernel_size=3", "out_padding=1"}, {1, 1, 5, 5},
                              {"unknown property 'out_padding'", "output_padding", "groups"});
}

// PyTorch's rule: output_padding < stride or < dilation, per axis.
TEST(Conv2DTranspose, OutputPaddingNotBelowStrideOrDilationIsAnError) {
  expect_error<PropertyError>({"filters=2", "kernel_size=3", "stride=2", "output_padding=2"},
                              {1, 1, 5, 5}, {"output_padding=2,2", "stride=2,2", "dilation=1,1"});
  expect_error<PropertyError>(
      {"filters=2", "kernel_size=3", "stride=2,1", "dilation=1,2", "output_padding=1,2"},
      {1, 1, 5, 5}, {"output_padding=1,2", "stride=2,1", "dilation=1,2"});
  expect_error<PropertyError>({"filters=2", "kernel_size=3", "output_padding=0,1"}, {1, 1, 5, 5},
                              {"output_padding=0,1", "stride=1,1"});
}

TEST(Conv2DTranspose, ChannelsNotDivisibleByGroupsIsAnError) {
  expect_error<ShapeError>({"filters=4", "kernel_size=3", "groups=2"}, {1, 3, 5, 5},
                           {"1:3:5:5", "divisible by groups=2"});
}

TEST(Conv2DTranspose, FiltersNotDivisibleByGroupsIsAnError) {
  expect_error<PropertyError>({"filters=3", "kernel_size=3", "groups=2"}, {1, 4, 5, 5},
                              {"filters=3", "groups=2"});
}

TEST(Conv2DTranspose, EmptyOutputIsAnError) {
  // Full height (2 - 1) * 1 + 3 = 4, all removed by padding 2 + 2.
  expect_error<ShapeError>({"filters=2", "kernel_size=3", "padding=2,2,0,0"}, {1, 1, 2, 5},
                           {"1:1:2:5", "output would be 0x7",
                            "(2 - 1) * stride 1 + dilated kernel 3 - padding 2 - padding 2 + "
                            "output_padding 0 = 0"});
  expect_error<ShapeError>({"filters=2", "kernel_size=2", "stride=2", "padding=1,4"}, {1, 1, 3, 2},
                           {"output would be 4x-4", "padding 4 - padding 4"});
}

}  // namespace edgetrain::testing
