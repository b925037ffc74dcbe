// Microbenchmarks at the shapes of the example CNN (batch 64, input 1:28:28: conv 8 3x3
// same relu, max-pool 2, conv 16 3x3 same relu, max-pool 2, fc 128 relu, fc 10), of the
// residual CNN and the VAE, and of large GEMM-heavy layers:
//
//   sgemm/<layer>_<pass>/blas_threads:T   the GEMM a layer issues (per sample for conv2d),
//       with the transposes the layer uses, on OpenBLAS alone with T threads; counters
//       GFLOPs (rate) and of_peak (fraction of sgemm/square_512 at the same thread count,
//       measured in the same run);
//   sgemm/<layer>_<pass>/policy           the same through kernels::gemm under edgetrain's
//       thread policy (column blocks on the OpenMP threads), where it splits;
//   sgemm/<conv>_<pass>/per_thread        one such GEMM on every OpenMP thread at once, as
//       conv2d's sample loop runs them;
//   elementwise/add_inplace/N             one elementwise kernel (forks above
//       kernels::kParallelMinWork element operations);
//   im2col/<layer>, col2im/<layer>        one sample's column matrix, serial;
//   layer/<layer>/<phase>                 a real layer inside a compiled graph (planner,
//       executor), timing forward or backward (calc_gradient + calc_derivative) alone
//       (and step = both, for the loss), under edgetrain's thread policy (OpenBLAS on one
//       thread, OpenMP on OMP_NUM_THREADS threads: compare runs with OMP_NUM_THREADS=1 and
//       unset); GEMM layers report GFLOPs and of_peak against square_512 at as many
//       OpenBLAS threads as the layer has OpenMP threads.
//
//   build/bench/bench_kernels [--benchmark_filter=sgemm] [--benchmark_repetitions=3]
#include <benchmark/benchmark.h>
#include <cblas.h>

#include <chrono>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "edgetrain/model.h"
#include "edgetrain/optimizer.h"
#include "edgetrain/rng.h"
#include "graph/executor.h"
#include "graph/graph.h"
#include "kernels/elementwise.h"
#include "kernels/gemm.h"
#include "kernels/im2col.h"
#include "kernels/threads.h"
#include "timed_layer.h"

namespace {

using namespace edgetrain;

constexpr size_t kBatch = 64;

std::vector<float> random_vector(size_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<float> values(n);
  for (float& v : values) v = rng.uniform(-1.0f, 1.0f);
  return values;
}

// ------------------------------------------------------------------------------ sgemm

struct GemmShape {
  std::string name;
  bool transpose_a, transpose_b;
  size_t m, n, k;
};

// conv: per sample, W[O x K] * columns[K x P] with K = C*3*3, P = H*W (same padding);
//   calc_gradient dY[O x P] * columns^T, calc_derivative W^T * dY.
// fc: X[B x in] * W^T (forward), dZ^T * X (gradient), dZ * W (derivative).
const std::vector<GemmShape>& gemm_shapes() {
  static const std::vector<GemmShape> shapes = {
      {"square_512", false, false, 512, 512, 512},
      {"conv1_forward", false, false, 8, 784, 9},
      {"conv1_gradient", false, true, 8, 9, 784},
      {"conv1_derivative", true, false, 9, 784, 8},
      {"conv2_forward", false, false, 16, 196, 72},
      {"conv2_gradient", false, true, 16, 72, 196},
      {"conv2_derivative", true, false, 72, 196, 16},
      {"fc1_forward", false, true, kBatch, 128, 784},
      {"fc1_gradient", true, false, 128, 784, kBatch},
      {"fc1_derivative", false, false, kBatch, 784, 128},
      {"fc2_forward", false, true, kBatch, 10, 128},
      {"fc2_gradient", true, false, 10, 128, kBatch},
      {"fc2_derivative", false, false, kBatch, 128, 10},
      // The GEMMs of the large layer cases (layer/large_*): conv per sample, fc per batch.
      {"large_conv64_forward", false, false, 64, 3136, 576},
      {"large_conv64_gradient", false, true, 64, 576, 3136},
      {"large_conv64_derivative", true, false, 576, 3136, 64},
      {"large_conv128_forward", false, false, 128, 784, 1152},
      {"large_conv128_gradient", false, true, 128, 1152, 784},
      {"large_conv128_derivative", true, false, 1152, 784, 128},
      {"large_deconv64_forward", true, false, 1024, 784, 64},
      {"large_deconv64_gradient", false, true, 64, 1024, 784},
      {"large_deconv64_derivative", false, false, 64, 784, 1024},
      {"large_fc1024_forward", false, true, 256, 1024, 1024},
      {"large_fc1024_gradient", true, false, 1024, 1024, 256},
      {"large_fc1024_derivative", false, false, 256, 1024, 1024},
      {"large_fc2048_forward", false, true, 128, 2048, 2048},
      {"large_fc2048_gradient", true, false, 2048, 2048, 128},
      {"large_fc2048_derivative", false, false, 128, 2048, 2048},
  };
  return shapes;
}

// GFLOP/s of square_512 per OpenBLAS thread count: the best seen in this run.
std::map<int, double>& square_peak() {
  static std::map<int, double> peak;
  return peak;
}

// The thread pool that ran last. Idle threads of a pool spin for a while after their last
// job (OpenBLAS's worker about 0.1 s, libgomp's team too) and take the cores the other
// pool needs: a benchmark on the other pool waits 0.25 s first (outside the timing).
enum class Pool { none, openblas, openmp };
void switch_to(Pool pool) {
  static Pool last = Pool::none;
  if (last != Pool::none && last != pool)
    std::this_thread::sleep_for(std::chrono::milliseconds(250));
  last = pool;
}

// OpenBLAS itself, on the calling thread plus the OpenBLAS threads set: not kernels::gemm,
// which cuts GEMMs of kernels::kSplitGemmFlops and more into column blocks on the OpenMP
// threads (measured by the /policy variants).
void blas_gemm(const GemmShape& s, const float* a, const float* b, float* c) {
  const size_t lda = s.transpose_a ? s.m : s.k, ldb = s.transpose_b ? s.k : s.n;
  cblas_sgemm(CblasRowMajor, s.transpose_a ? CblasTrans : CblasNoTrans,
              s.transpose_b ? CblasTrans : CblasNoTrans, static_cast<int>(s.m),
              static_cast<int>(s.n), static_cast<int>(s.k), 1.0f, a, static_cast<int>(lda), b,
              static_cast<int>(ldb), 0.0f, c, static_cast<int>(s.n));
}

double time_gemm(const GemmShape& s, const float* a, const float* b, float* c, int calls) {
  const auto start = std::chrono::steady_clock::now();
  for (int i = 0; i < calls; ++i) blas_gemm(s, a, b, c);
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

// The square_512 peak at `threads` OpenBLAS threads. When square_512 was filtered out (or
// has not run yet), measured here: best of 5 runs of 10 calls. OpenBLAS is left on one
// thread (edgetrain's policy) afterwards.
double peak_for(int threads) {
  auto found = square_peak().find(threads);
  if (found != square_peak().end()) return found->second;
  const GemmShape& square = gemm_shapes().front();
  const std::vector<float> a = random_vector(512 * 512, 1), b = random_vector(512 * 512, 2);
  std::vector<float> c(512 * 512);
  switch_to(Pool::openblas);
  openblas_set_num_threads(threads);
  time_gemm(square, a.data(), b.data(), c.data(), 2);
  double best = 1e30;
  for (int run = 0; run < 5; ++run)
    best = std::min(best, time_gemm(square, a.data(), b.data(), c.data(), 10) / 10);
  kernels::apply_thread_policy();
  return square_peak()[threads] = 2.0 * 512 * 512 * 512 / best * 1e-9;
}

std::string shape_label(const GemmShape& s) {
  return std::to_string(s.m) + "x" + std::to_string(s.n) + "x" + std::to_string(s.k) +
         (s.transpose_a ? " A^T" : "") + (s.transpose_b ? " B^T" : "");
}

// OpenBLAS alone on range(0) threads.
void BM_sgemm(benchmark::State& state, const GemmShape& s) {
  const int threads = static_cast<int>(state.range(0));
  switch_to(Pool::openblas);
  openblas_set_num_threads(threads);
  const std::vector<float> a = random_vector(s.m * s.k, 1), b = random_vector(s.k * s.n, 2);
  std::vector<float> c(s.m * s.n);
  const double gflop = 2.0 * static_cast<double>(s.m * s.n * s.k) * 1e-9;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    blas_gemm(s, a.data(), b.data(), c.data());
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = gflop * static_cast<double>(state.iterations()) / seconds;
  state.counters["GFLOPs"] = rate;
  if (s.name == "square_512") {
    double& peak = square_peak()[threads];
    peak = std::max(peak, rate);
  }
  state.counters["of_peak"] = rate / peak_for(threads);
  state.SetLabel(shape_label(s));
  kernels::apply_thread_policy();
}

// kernels::gemm under edgetrain's thread policy, as a layer outside conv2d's sample loop
// calls it: OpenBLAS on one thread, GEMMs of kSplitGemmFlops and more as column blocks on
// the OpenMP threads. of_peak: against square_512 at that many OpenBLAS threads.
void BM_sgemm_policy(benchmark::State& state, const GemmShape& s) {
  const int threads = kernels::max_threads();
  const double peak = peak_for(threads);
  switch_to(Pool::openmp);
  const std::vector<float> a = random_vector(s.m * s.k, 1), b = random_vector(s.k * s.n, 2);
  std::vector<float> c(s.m * s.n);
  const size_t lda = s.transpose_a ? s.m : s.k, ldb = s.transpose_b ? s.k : s.n;
  const double gflop = 2.0 * static_cast<double>(s.m * s.n * s.k) * 1e-9;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
    kernels::gemm(s.transpose_a, s.transpose_b, s.m, s.n, s.k, 1.0f, a.data(), lda, b.data(), ldb,
                  0.0f, c.data(), s.n);
    benchmark::DoNotOptimize(c.data());
    benchmark::ClobberMemory();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = gflop * static_cast<double>(state.iterations()) / seconds;
  state.counters["GFLOPs"] = rate;
  state.counters["of_peak"] = rate / peak;
  state.SetLabel(shape_label(s) + ", " +
                 std::to_string(kernels::gemm_column_blocks(s.m, s.n, s.k)) + " block(s) on " +
                 std::to_string(threads) + " thread(s)");
}

// What conv2d's sample loop does: every OpenMP thread runs its own GEMM of this shape on
// its own matrices, OpenBLAS on one thread each. GFLOPs counts all threads' GEMMs; of_peak
// against square_512 at as many OpenBLAS threads.
void BM_sgemm_per_thread(benchmark::State& state, const GemmShape& s) {
  const int threads = kernels::max_threads();
  const double peak = peak_for(threads);
  switch_to(Pool::openmp);
  std::vector<std::vector<float>> a, b, c;
  for (int t = 0; t < threads; ++t) {
    a.push_back(random_vector(s.m * s.k, 1 + 2 * t));
    b.push_back(random_vector(s.k * s.n, 2 + 2 * t));
    c.emplace_back(s.m * s.n);
  }
  const double gflop = 2.0 * static_cast<double>(s.m * s.n * s.k) * 1e-9 * threads;
  const auto start = std::chrono::steady_clock::now();
  for (auto _ : state) {
#pragma omp parallel num_threads(threads)
    {
      const size_t t = static_cast<size_t>(omp_get_thread_num());
      blas_gemm(s, a[t].data(), b[t].data(), c[t].data());
    }
    benchmark::ClobberMemory();
  }
  const double seconds =
      std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const double rate = gflop * static_cast<double>(state.iterations()) / seconds;
  state.counters["GFLOPs"] = rate;
  state.counters["of_peak"] = rate / peak;
  state.SetLabel(shape_label(s) + ", one per thread on " + std::to_string(threads) + " thread(s)");
}

// ------------------------------------------------------------------------- elementwise

// dst += src at the sizes of the CNN's activations (conv1 output 64x8x28x28 = 401408,
// pool2 output 64x16x7x7 = 50176) and of fc1's (64x128 = 8192), the last one below the
// size where loops fork (kernels::kParallelMinWork).
void BM_add_inplace(benchmark::State& state) {
  const size_t n = static_cast<size_t>(state.range(0));
  switch_to(Pool::openmp);
  std::vector<float> dst = random_vector(n, 1);
  const std::vector<float> src = random_vector(n, 2);
  for (auto _ : state) {
    kernels::add_inplace(dst.data(), src.data(), n);
    benchmark::DoNotOptimize(dst.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(static_cast<int64_t>(state.iterations() * n * 3 * sizeof(float)));
  state.SetLabel(std::to_string(kernels::loop_threads(n)) + " thread(s)");
}

// ------------------------------------------------------------------------------ layers

// One layer on a compiled graph: input(s) -> layer, with input gradients on so that
// calc_derivative runs too, SGD at learning rate 0 so the weights stay put. A loss layer
// gets one-hot labels.
class LayerRig {
 public:
  LayerRig(const std::string& type, const std::vector<std::string>& properties,
           const std::string& input_shape, size_t batch) {
    input_ = createLayer("input", {"name=in", "input_shape=" + input_shape});
    auto timed = std::make_unique<bench::TimedLayer>(make_layer(type));
    timed_ = timed.get();
    layer_ = std::make_unique<LayerNode>(std::move(timed));
    layer_->setProperty(properties);
    optimizer_ = createOptimizer("sgd", {"learning_rate=0"});
    CompileOptions options;
    options.batch = batch;
    options.optimizer = optimizer_.get();
    options.input_gradients = true;
    graph_ = std::make_unique<CompiledGraph>(
        compile_graph({{"in", &input_->layer(), {}, std::nullopt, true},
                       {"under_test", &layer_->layer(), {"in"}, std::nullopt, true}},
                      options));
    executor_ = std::make_unique<Executor>(*graph_, optimizer_.get(), nullptr, 1);
    input_values_ = random_vector(executor_->tensor(graph_->input_tensors.at(0)).size(), 3);
    for (int id : graph_->external_gradients)
      gradients_.push_back({id, random_vector(executor_->tensor(id).size(), 4)});
    for (int id : graph_->label_tensors) {
      Tensor label = executor_->tensor(id);
      const size_t classes = label.shape().width;
      std::vector<float> one_hot(label.size(), 0.0f);
      for (size_t row = 0; row < label.size() / classes; ++row)
        one_hot[row * classes + (row * 7) % classes] = 1.0f;
      labels_.push_back({id, std::move(one_hot)});
    }
  }

  // One training iteration; returns the layer's times. The input, labels and output
  // gradient are written before every pass (untimed): the planner lends their memory to
  // other tensors in between, and a layer's speed can depend on the values (NaN,
  // denormals).
  bench::TimedLayer::Times iteration() {
    timed_->reset();
    std::copy(input_values_.begin(), input_values_.end(),
              executor_->tensor(graph_->input_tensors.at(0)).data());
    for (const auto& [id, values] : labels_)
      std::copy(values.begin(), values.end(), executor_->tensor(id).data());
    executor_->forward(true);
    for (const auto& [id, values] : gradients_)
      std::copy(values.begin(), values.end(), executor_->tensor(id).data());
    executor_->backward();
    return timed_->times();
  }

  // Multiply-adds x 2 of the layer's GEMMs in forward, per iteration: 2 * B * O * P * K
  // for conv2d (K = C*kh*kw, P = output pixels), the same with P = input pixels for
  // conv2dtranspose (its GEMMs are conv2d's backward ones), 2 * B * in * out for
  // fully_connected; 0 for other layers. Bias, activation, im2col/col2im are not counted.
  // Backward runs one GEMM of the same size for the weight gradient and one for the
  // input gradient: twice the forward's.
  double forward_flops() const {
    const GraphNode& node = graph_->nodes[graph_->find_node("under_test")];
    if (node.weights.empty()) return 0;
    const double weights = static_cast<double>(graph_->tensors[node.weights[0]].shape.size());
    const TensorShape& in = node.inputs[0].shape;
    const TensorShape& out = node.outputs[0].shape;
    if (node.type == "conv2d")
      return 2.0 * weights * static_cast<double>(out.batch * out.height * out.width);
    if (node.type == "conv2dtranspose")
      return 2.0 * weights * static_cast<double>(in.batch * in.height * in.width);
    if (node.type == "fully_connected")
      return 2.0 * weights * static_cast<double>(in.size() / in.width);
    return 0;
  }

 private:
  std::unique_ptr<LayerNode> input_, layer_;
  bench::TimedLayer* timed_ = nullptr;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<CompiledGraph> graph_;
  std::unique_ptr<Executor> executor_;
  std::vector<float> input_values_;
  std::vector<std::pair<int, std::vector<float>>> gradients_, labels_;
};

struct LayerCase {
  std::string name, type;
  std::vector<std::string> properties;
  std::string input_shape;
  size_t batch = kBatch;
};

const std::vector<std::string> kConv3x3 = {"kernel_size=3,3", "padding=same"};

std::vector<std::string> with(std::vector<std::string> base, const std::vector<std::string>& more) {
  base.insert(base.end(), more.begin(), more.end());
  return base;
}

const std::vector<LayerCase>& layer_cases() {
  static const std::vector<LayerCase> cases = {
      // The example CNN.
      {"conv1", "conv2d", with(kConv3x3, {"filters=8", "activation=relu"}), "1:28:28"},
      {"conv2", "conv2d", with(kConv3x3, {"filters=16", "activation=relu"}), "8:14:14"},
      {"pool1", "pooling2d", {"pooling=max", "pool_size=2,2"}, "8:28:28"},
      {"pool2", "pooling2d", {"pooling=max", "pool_size=2,2"}, "16:14:14"},
      {"relu_conv1", "activation", {"activation=relu"}, "8:28:28"},
      {"relu_conv2", "activation", {"activation=relu"}, "16:14:14"},
      {"relu_fc1", "activation", {"activation=relu"}, "1:1:128"},
      {"batchnorm_conv1", "batch_normalization", {}, "8:28:28"},
      {"batchnorm_conv2", "batch_normalization", {}, "16:14:14"},
      {"fc1", "fully_connected", {"unit=128", "activation=relu"}, "1:1:784"},
      {"fc2", "fully_connected", {"unit=10"}, "1:1:128"},
      // fc2's logits into the loss the model file's Loss = cross makes of a final softmax.
      {"softmax_cross_entropy", "cross_entropy", {}, "1:1:10"},
      // The residual CNN (bench/compare/models/resnet.ini).
      {"resnet_conv0", "conv2d", with(kConv3x3, {"filters=16"}), "1:28:28"},
      {"resnet_conv1a", "conv2d", with(kConv3x3, {"filters=16"}), "16:28:28"},
      {"resnet_conv2", "conv2d", with(kConv3x3, {"filters=32"}), "16:14:14"},
      {"resnet_bn1a", "batch_normalization", {}, "16:28:28"},
      {"resnet_bn2", "batch_normalization", {}, "32:14:14"},
      // The VAE's decoder (models/vae.ini).
      {"vae_dec_deconv1",
       "conv2dtranspose",
       {"filters=4", "kernel_size=4,4", "stride=2,2", "padding=1,1"},
       "8:7:7"},
      {"vae_recon",
       "conv2dtranspose",
       {"filters=1", "kernel_size=4,4", "stride=2,2", "padding=1,1", "activation=sigmoid"},
       "4:14:14"},
      // Large GEMM-heavy layers, for the 80%-of-peak check.
      {"large_fc1024", "fully_connected", {"unit=1024"}, "1:1:1024", 256},
      {"large_fc2048", "fully_connected", {"unit=2048"}, "1:1:2048", 128},
      {"large_conv64", "conv2d", with(kConv3x3, {"filters=64"}), "64:56:56", 8},
      {"large_conv128", "conv2d", with(kConv3x3, {"filters=128"}), "128:28:28", 16},
      {"large_deconv64",
       "conv2dtranspose",
       {"filters=64", "kernel_size=4,4", "stride=2,2", "padding=1,1"},
       "64:28:28",
       8},
  };
  return cases;
}

enum class LayerPhase { forward, backward, step };
const char* phase_name(LayerPhase phase) {
  switch (phase) {
    case LayerPhase::forward:
      return "forward";
    case LayerPhase::backward:
      return "backward";
    case LayerPhase::step:
      return "step";
  }
  return "";
}

// Manual time: the phase's own wall seconds, from TimedLayer, per iteration (step:
// forward + backward). cpu_us is the calling thread's CPU time in the phase (steadier on a
// shared machine, serial code only). GEMM layers also get GFLOPs (LayerRig::forward_flops,
// twice that in backward) and of_peak, against square_512 at as many OpenBLAS threads as
// the layer's OpenMP threads (kernels::max_threads()).
void BM_layer(benchmark::State& state, const LayerCase& c, LayerPhase phase) {
  const int threads = kernels::max_threads();
  const double peak = peak_for(threads);
  switch_to(Pool::openmp);
  LayerRig rig(c.type, c.properties, c.input_shape, c.batch);
  rig.iteration();  // warm-up
  double wall = 0, cpu = 0, gradient = 0, derivative = 0;
  for (auto _ : state) {
    const bench::TimedLayer::Times t = rig.iteration();
    const double seconds = phase == LayerPhase::forward    ? t.forward.wall
                           : phase == LayerPhase::backward ? t.backward_wall()
                                                           : t.forward.wall + t.backward_wall();
    state.SetIterationTime(seconds);
    wall += seconds;
    cpu += (phase != LayerPhase::backward ? t.forward.cpu : 0) +
           (phase != LayerPhase::forward ? t.backward_cpu() : 0);
    gradient += t.gradient.wall;
    derivative += t.derivative.wall;
  }
  const double n = static_cast<double>(state.iterations());
  state.counters["cpu_us"] = 1e6 * cpu / n;
  if (phase == LayerPhase::backward) {
    state.counters["gradient_us"] = 1e6 * gradient / n;
    state.counters["derivative_us"] = 1e6 * derivative / n;
  }
  const double flops = rig.forward_flops() * (phase == LayerPhase::forward    ? 1
                                              : phase == LayerPhase::backward ? 2
                                                                              : 3);
  if (flops > 0 && wall > 0) {
    const double rate = flops * n / wall * 1e-9;
    state.counters["GFLOPs"] = rate;
    state.counters["of_peak"] = rate / peak;
  }
  state.SetLabel("batch " + std::to_string(c.batch) + ", input " + c.input_shape + ", " +
                 std::to_string(threads) + " thread(s)");
}

// ----------------------------------------------------------------------- im2col/col2im

// One sample's im2col and col2im, serial, at the large conv layers' geometries (for
// large_deconv64, the 56x56 output image its backward unfolds and its forward folds back).
struct ColumnsCase {
  std::string name;
  size_t channels, size, kernel, stride, pad;
};

const std::vector<ColumnsCase>& columns_cases() {
  static const std::vector<ColumnsCase> cases = {
      {"resnet_conv1a", 16, 28, 3, 1, 1},
      {"large_conv64", 64, 56, 3, 1, 1},
      {"large_conv128", 128, 28, 3, 1, 1},
      {"large_deconv64", 64, 56, 4, 2, 1},
  };
  return cases;
}

void BM_columns(benchmark::State& state, const ColumnsCase& c, bool fold) {
  switch_to(Pool::openmp);
  kernels::ConvGeometry g;
  g.height = g.width = c.size;
  g.kernel_h = g.kernel_w = c.kernel;
  g.stride_h = g.stride_w = c.stride;
  g.pad_top = g.pad_left = static_cast<std::ptrdiff_t>(c.pad);
  g.pad_bottom = g.pad_right = static_cast<std::ptrdiff_t>(c.pad);
  const size_t rows = c.channels * g.kernel_size(), positions = g.out_h() * g.out_w();
  std::vector<float> image = random_vector(c.channels * c.size * c.size, 1);
  std::vector<float> columns = random_vector(rows * positions, 2);
  for (auto _ : state) {
    if (fold)
      kernels::col2im(columns.data(), g, 0, c.channels, image.data());
    else
      kernels::im2col(image.data(), g, 0, c.channels, columns.data());
    benchmark::DoNotOptimize(fold ? image.data() : columns.data());
    benchmark::ClobberMemory();
  }
  state.SetBytesProcessed(
      static_cast<int64_t>(state.iterations() * rows * positions * sizeof(float)));
  state.SetLabel(std::to_string(c.channels) + ":" + std::to_string(c.size) + ":" +
                 std::to_string(c.size) + " -> " + std::to_string(rows) + "x" +
                 std::to_string(positions) + " columns");
}

// Registration order is run order: square_512 first (the peak every of_peak divides by),
// all OpenBLAS-threaded GEMMs together, then what runs on the OpenMP threads.
void register_all() {
  for (const GemmShape& shape : gemm_shapes())
    benchmark::RegisterBenchmark(("sgemm/" + shape.name).c_str(), BM_sgemm, shape)
        ->ArgName("blas_threads")
        ->Arg(1)
        ->Arg(2);
  // Only where kernels::gemm splits; below kSplitGemmFlops it is blas_threads:1.
  for (const GemmShape& shape : gemm_shapes())
    if (kernels::gemm_column_blocks(shape.m, shape.n, shape.k) > 1)
      benchmark::RegisterBenchmark(("sgemm/" + shape.name + "/policy").c_str(), BM_sgemm_policy,
                                   shape);
  // conv2d's per-sample GEMMs, one per OpenMP thread at once.
  for (const GemmShape& shape : gemm_shapes())
    if (shape.name.starts_with("conv") || shape.name.starts_with("large_conv"))
      benchmark::RegisterBenchmark(("sgemm/" + shape.name + "/per_thread").c_str(),
                                   BM_sgemm_per_thread, shape);
  benchmark::RegisterBenchmark("elementwise/add_inplace", BM_add_inplace)
      ->Arg(8192)
      ->Arg(50176)
      ->Arg(401408)
      ->Unit(benchmark::kMicrosecond);
  for (const ColumnsCase& c : columns_cases())
    for (bool fold : {false, true})
      benchmark::RegisterBenchmark(((fold ? "col2im/" : "im2col/") + c.name).c_str(), BM_columns, c,
                                   fold)
          ->Unit(benchmark::kMicrosecond);
  for (const LayerCase& c : layer_cases()) {
    std::vector<LayerPhase> phases = {LayerPhase::forward, LayerPhase::backward};
    if (c.type == "cross_entropy") phases.push_back(LayerPhase::step);
    for (LayerPhase phase : phases)
      benchmark::RegisterBenchmark(("layer/" + c.name + "/" + phase_name(phase)).c_str(), BM_layer,
                                   c, phase)
          ->UseManualTime()
          ->Unit(benchmark::kMicrosecond);
  }
}

}  // namespace

int main(int argc, char** argv) {
  benchmark::Initialize(&argc, argv);
  // The layers run as in a Model (OpenBLAS on one thread); sgemm sets its own count.
  kernels::apply_thread_policy();
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::AddCustomContext(
      "openblas", std::string(openblas_get_config()) + ", core " + openblas_get_corename());
  register_all();
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
