// conv2dtranspose (GEMM + col2im, run by the real executor in a compiled graph) against the
// direct loops of tests/support/conv2d_transpose_reference.h, on the two transposed
// convolutions of a small VAE decoder at batch 64:
//   stage 0: 8:7:7  -> 4 filters, kernel 4, stride 2, padding 1 -> 4:14:14
//   stage 1: 4:14:14 -> 1 filter, kernel 4, stride 2, padding 1 -> 1:28:28
// "Forward" times the forward pass; "Step" times forward, input gradient and weight gradients.
// Run single-threaded for a like-for-like comparison (see bench/README-conv2d-transpose.md):
//   OPENBLAS_NUM_THREADS=1 ./build/bench/bench_conv2d_transpose
#include <benchmark/benchmark.h>

#include <memory>
#include <string>
#include <vector>

#include "edgetrain/model.h"
#include "edgetrain/optimizer.h"
#include "edgetrain/rng.h"
#include "graph/executor.h"
#include "graph/graph.h"
#include "support/conv2d_transpose_reference.h"

namespace edgetrain {
namespace {

constexpr size_t kBatch = 64;

struct Stage {
  size_t channels, size, filters;
};
constexpr Stage kStages[] = {{8, 7, 4}, {4, 14, 1}};

testing::ConvTransposeSpec spec_of(const Stage& stage) {
  return {.batch = kBatch,
          .channels = stage.channels,
          .height = stage.size,
          .width = stage.size,
          .filters = stage.filters,
          .kernel = {4, 4},
          .stride = {2, 2},
          .pad_top = 1,
          .pad_left = 1,
          .out_h = 2 * stage.size,
          .out_w = 2 * stage.size};
}

std::vector<float> random_values(size_t n, Rng& rng) {
  std::vector<float> values(n);
  for (float& value : values) value = rng.uniform(-1.0f, 1.0f);
  return values;
}

// input -> conv2dtranspose, compiled like a training graph (weight and input gradients).
class LayerUnderTest {
 public:
  explicit LayerUnderTest(const Stage& stage)
      : input_(createLayer("input", {"name=in", "input_shape=" + std::to_string(stage.channels) +
                                                    ":" + std::to_string(stage.size) + ":" +
                                                    std::to_string(stage.size)})),
        layer_(createLayer("conv2dtranspose",
                           {"name=convt", "filters=" + std::to_string(stage.filters),
                            "kernel_size=4", "stride=2", "padding=1"})),
        // Learning rate 0: the weights stay put; the update itself is a few hundred floats.
        optimizer_(createOptimizer("sgd", {"learning_rate=0"})) {
    CompileOptions options;
    options.batch = kBatch;
    options.optimizer = optimizer_.get();
    options.input_gradients = true;
    graph_ = std::make_unique<CompiledGraph>(
        compile_graph({{"in", &input_->layer(), {}, std::nullopt, true},
                       {"convt", &layer_->layer(), {"in"}, std::nullopt, true}},
                      options));
    executor_ = std::make_unique<Executor>(*graph_, optimizer_.get(), nullptr, 1);
    node_ = &graph_->nodes[graph_->find_node("convt")];
    Rng rng(1);
    input_values_ = random_values(executor_->tensor(graph_->input_tensors[0]).size(), rng);
    output_grad_values_ = random_values(executor_->tensor(node_->output_grads[0].id).size(), rng);
  }

  // Writes the input and the output gradient again: the planner may reuse their memory.
  void set_data() {
    Tensor input = executor_->tensor(graph_->input_tensors[0]);
    std::copy(input_values_.begin(), input_values_.end(), input.data());
  }
  void set_output_grad() {
    Tensor grad = executor_->tensor(node_->output_grads[0].id);
    std::copy(output_grad_values_.begin(), output_grad_values_.end(), grad.data());
  }
  void forward() { executor_->forward(true); }
  void backward() { executor_->backward(); }
  float first_output() const { return executor_->tensor(node_->outputs[0].id)[0]; }

 private:
  std::unique_ptr<LayerNode> input_, layer_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<CompiledGraph> graph_;
  std::unique_ptr<Executor> executor_;
  const GraphNode* node_ = nullptr;
  std::vector<float> input_values_, output_grad_values_;
};

// The direct loops on the same sizes, in float like the layer.
struct DirectLoops {
  explicit DirectLoops(const Stage& stage) : spec(spec_of(stage)) {
    Rng rng(1);
    const size_t inputs = kBatch * stage.channels * stage.size * stage.size;
    const size_t weights = stage.channels * stage.filters * 16;
    const size_t outputs = kBatch * stage.filters * spec.out_h * spec.out_w;
    x = random_values(inputs, rng);
    w = random_values(weights, rng);
    b = random_values(stage.filters, rng);
    dy = random_values(outputs, rng);
    y.resize(outputs);
    dx.resize(inputs);
    dw.resize(weights);
    db.resize(stage.filters);
  }
  void forward() {
    testing::conv_transpose_forward_reference(spec, x.data(), w.data(), b.data(), y.data());
  }
  void backward() {
    testing::conv_transpose_backward_reference(spec, x.data(), w.data(), dy.data(), dx.data(),
                                               dw.data(), db.data());
  }

  testing::ConvTransposeSpec spec;
  std::vector<float> x, w, b, dy, y, dx, dw, db;
};

void label(benchmark::State& state) {
  const Stage& stage = kStages[state.range(0)];
  state.SetLabel(std::to_string(kBatch) + "x" + std::to_string(stage.channels) + ":" +
                 std::to_string(stage.size) + ":" + std::to_string(stage.size) + " -> " +
                 std::to_string(stage.filters) + " filters");
}

void BM_GemmForward(benchmark::State& state) {
  LayerUnderTest layer(kStages[state.range(0)]);
  layer.set_data();
  for (auto _ : state) {
    layer.forward();
    benchmark::DoNotOptimize(layer.first_output());
  }
  label(state);
}

void BM_DirectForward(benchmark::State& state) {
  DirectLoops direct(kStages[state.range(0)]);
  for (auto _ : state) {
    direct.forward();
    benchmark::DoNotOptimize(direct.y.data());
    benchmark::ClobberMemory();
  }
  label(state);
}

void BM_GemmStep(benchmark::State& state) {
  LayerUnderTest layer(kStages[state.range(0)]);
  for (auto _ : state) {
    state.PauseTiming();
    layer.set_data();
    state.ResumeTiming();
    layer.forward();
    state.PauseTiming();
    layer.set_output_grad();
    state.ResumeTiming();
    layer.backward();
  }
  label(state);
}

void BM_DirectStep(benchmark::State& state) {
  DirectLoops direct(kStages[state.range(0)]);
  for (auto _ : state) {
    direct.forward();
    direct.backward();
    benchmark::DoNotOptimize(direct.y.data());
    benchmark::DoNotOptimize(direct.dw.data());
    benchmark::ClobberMemory();
  }
  label(state);
}

BENCHMARK(BM_GemmForward)->DenseRange(0, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DirectForward)->DenseRange(0, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_GemmStep)->DenseRange(0, 1)->Unit(benchmark::kMicrosecond);
BENCHMARK(BM_DirectStep)->DenseRange(0, 1)->Unit(benchmark::kMicrosecond);

}  // namespace
}  // namespace edgetrain

BENCHMARK_MAIN();
