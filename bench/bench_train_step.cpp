// Times training steps of the example CNN (Fashion-MNIST shape 1:28:28, batch 64:
// conv 8 3x3 same relu, max-pool 2, conv 16 3x3 same relu, max-pool 2, fc 128 relu,
// fc 10, cross entropy, Adam) on random data, under thread settings alternated within
// one run, so that the shared machine's noise hits every variant alike.
//
//   build/bench/bench_train_step [--steps 20] [--rounds 15] [--batch 64] [--variants ecad]
//                                [--warmup 2] [--pause-ms 200]
//
// Every round runs each variant in turn (the order rotates): a pause of pause-ms (so the
// previous variant's idle threads stop spinning), warmup untimed steps, then steps timed
// steps.
//
// Variants (set with omp_set_num_threads / openblas_set_num_threads between rounds; the
// models are compiled once, with OpenMP at all cores):
//   e  no threads: OpenMP 1 thread, OpenBLAS 1 thread
//   c  edgetrain's thread policy (src/kernels/threads.h): OpenMP on every core (at most
//      kMaxThreads), OpenBLAS on 1 thread
//   a  OpenMP 1 thread, OpenBLAS at its default (one per core): the code before OpenMP
//   d  OpenMP on every core and OpenBLAS at its default: both pools
// Ratios are to the first variant listed. Variants b, f and g of bench/README.md (OpenMP
// in only some of the loops) need the experiment commit 65c2139 and its copy of this
// program.
//
// Each variant trains its own model (same seed, same batches). Prints, per variant, the
// median step time and its ratio to variant a (median of the per-round ratios), the
// per-layer forward / calc_gradient / calc_derivative times (TimedLayer around each
// layer: the executor is unchanged), and whether the weights match variant a bit for bit.
#include <cblas.h>
#include <omp.h>

#include <algorithm>
#include <chrono>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <ctime>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include "edgetrain/model.h"
#include "edgetrain/rng.h"
#include "kernels/threads.h"
#include "timed_layer.h"

namespace {

using edgetrain::LayerNode;
using edgetrain::Model;
using edgetrain::bench::TimedLayer;
namespace kernels = edgetrain::kernels;

struct Variant {
  char name;
  const char* description;
  int omp_threads;
  int blas_threads;
};

struct Net {
  std::unique_ptr<Model> model;
  std::vector<std::pair<std::string, TimedLayer*>> layers;
};

Net build_cnn(size_t batch) {
  Net net;
  net.model = std::make_unique<Model>(
      std::vector<std::string>{"batch_size=" + std::to_string(batch), "seed=1"});
  const auto add = [&](const std::string& type, const std::vector<std::string>& properties) {
    auto timed = std::make_unique<TimedLayer>(edgetrain::make_layer(type));
    TimedLayer* raw = timed.get();
    auto node = std::make_unique<LayerNode>(std::move(timed));
    node->setProperty(properties);
    net.layers.emplace_back(node->getName(), raw);
    net.model->addLayer(std::move(node));
  };
  add("input", {"name=input", "input_shape=1:28:28"});
  add("conv2d", {"name=conv1", "filters=8", "kernel_size=3,3", "padding=same", "activation=relu"});
  add("pooling2d", {"name=pool1", "pooling=max", "pool_size=2,2"});
  add("conv2d", {"name=conv2", "filters=16", "kernel_size=3,3", "padding=same", "activation=relu"});
  add("pooling2d", {"name=pool2", "pooling=max", "pool_size=2,2"});
  add("flatten", {"name=flatten"});
  add("fully_connected", {"name=fc1", "unit=128", "activation=relu"});
  add("fully_connected", {"name=fc2", "unit=10"});
  add("cross_entropy", {"name=loss"});
  net.model->setOptimizer(edgetrain::createOptimizer("adam", {"learning_rate=0.001"}));
  net.model->compile();
  net.model->initialize();
  return net;
}

// Random images and one-hot labels, `batches` batches of `batch` samples.
struct Data {
  std::vector<std::vector<float>> images, labels;
};

Data make_data(size_t batches, size_t batch) {
  edgetrain::Rng rng(7);
  Data data;
  for (size_t b = 0; b < batches; ++b) {
    std::vector<float> images(batch * 28 * 28), labels(batch * 10, 0.0f);
    for (float& v : images) v = rng.uniform();
    for (size_t s = 0; s < batch; ++s) labels[s * 10 + rng.below(10)] = 1.0f;
    data.images.push_back(std::move(images));
    data.labels.push_back(std::move(labels));
  }
  return data;
}

// CPU seconds used by every thread of the process so far.
double process_cpu_seconds() {
  timespec now{};
  clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &now);
  return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
}

std::string load_average() {
  char text[128] = {};
  if (FILE* file = std::fopen("/proc/loadavg", "r")) {
    if (!std::fgets(text, sizeof text, file)) text[0] = 0;
    std::fclose(file);
  }
  std::string result(text);
  while (!result.empty() && result.back() == '\n') result.pop_back();
  return result.empty() ? "unknown" : result;
}

double median(std::vector<double> values) {
  if (values.empty()) return 0.0;
  std::sort(values.begin(), values.end());
  const size_t n = values.size();
  return n % 2 ? values[n / 2] : 0.5 * (values[n / 2 - 1] + values[n / 2]);
}

struct Options {
  size_t steps = 20, rounds = 15, batch = 64, warmup = 2, pause_ms = 200;
  std::string variants = "ecad";
};

Options parse(int argc, char** argv) {
  Options options;
  for (int i = 1; i < argc; ++i) {
    const std::string arg = argv[i];
    const char* value = i + 1 < argc ? argv[i + 1] : nullptr;
    if (arg == "--steps" && value)
      options.steps = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--rounds" && value)
      options.rounds = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--warmup" && value)
      options.warmup = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--pause-ms" && value)
      options.pause_ms = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--batch" && value)
      options.batch = std::strtoul(argv[++i], nullptr, 10);
    else if (arg == "--variants" && value)
      options.variants = argv[++i];
    else {
      std::fprintf(stderr,
                   "usage: %s [--steps N] [--rounds R] [--batch B] [--variants ecad] "
                   "[--warmup N] [--pause-ms MS]\n",
                   argv[0]);
      std::exit(2);
    }
  }
  if (options.steps == 0 || options.rounds == 0 || options.batch == 0 || options.variants.empty()) {
    std::fprintf(stderr, "steps, rounds, batch and variants must be positive / non-empty\n");
    std::exit(2);
  }
  return options;
}

}  // namespace

int main(int argc, char** argv) {
  const Options options = parse(argc, argv);
  const int blas_default = openblas_get_num_threads();
  const unsigned cores = std::thread::hardware_concurrency();
  const int omp_default = omp_get_max_threads();
  const auto env = [](const char* name) {
    const char* value = std::getenv(name);
    return value ? value : "(unset)";
  };
  std::printf(
      "OpenBLAS %s, core %s, %d threads by default; OpenMP %d threads by default; %u cores; "
      "OPENBLAS_CORETYPE=%s OMP_WAIT_POLICY=%s\n",
      openblas_get_config(), openblas_get_corename(), blas_default, omp_default, cores,
      env("OPENBLAS_CORETYPE"), env("OMP_WAIT_POLICY"));
  std::printf(
      "batch %zu, %zu rounds of %zu steps per variant, variants alternated; "
      "load average %s\n\n",
      options.batch, options.rounds, options.steps, load_average().c_str());

  const std::vector<Variant> all = {
      {'e', "no threads (OpenMP 1, OpenBLAS 1)", 1, 1},
      {'c', "thread policy (OpenMP all cores, OpenBLAS 1)", omp_default, 1},
      {'a', "OpenMP 1, OpenBLAS default (before)", 1, blas_default},
      {'d', "OpenMP all cores, OpenBLAS default", omp_default, blas_default},
  };
  std::vector<Variant> variants;
  for (char name : options.variants) {
    auto found =
        std::find_if(all.begin(), all.end(), [&](const Variant& v) { return v.name == name; });
    if (found == all.end()) {
      std::fprintf(stderr, "unknown variant '%c'\n", name);
      return 2;
    }
    variants.push_back(*found);
  }

  // One model per variant; Model::initialize applies the thread policy, each round then
  // sets its variant's OpenBLAS thread count.
  std::vector<Net> nets;
  for (size_t v = 0; v < variants.size(); ++v) nets.push_back(build_cnn(options.batch));
  const Data data = make_data(4, options.batch);
  size_t next_batch = 0;
  const auto step = [&](Net& net, size_t b) {
    std::copy(data.images[b].begin(), data.images[b].end(), net.model->inputs()[0].data());
    std::copy(data.labels[b].begin(), data.labels[b].end(), net.model->labels()[0].data());
    net.model->trainStep();
  };

  const size_t v_count = variants.size();
  // step_ms[v][round]: median step time of that round; layer_ms[v][layer][phase][round].
  std::vector<std::vector<double>> step_ms(v_count), cpu_ms(v_count), rest_ms(v_count);
  std::vector<std::vector<std::vector<std::vector<double>>>> layer_ms(v_count);
  for (size_t v = 0; v < v_count; ++v)
    layer_ms[v].assign(nets[v].layers.size(), std::vector<std::vector<double>>(3));

  for (size_t round = 0; round < options.rounds; ++round) {
    const size_t first_batch = next_batch;
    for (size_t k = 0; k < v_count; ++k) {
      const size_t v = (round + k) % v_count;  // rotate the order every round
      Net& net = nets[v];
      omp_set_num_threads(variants[v].omp_threads);
      openblas_set_num_threads(variants[v].blas_threads);
      // Idle threads of the previous variant's pools (OpenBLAS workers spin about 0.1 s
      // after their last GEMM) would otherwise take a core from this one.
      std::this_thread::sleep_for(std::chrono::milliseconds(options.pause_ms));
      next_batch = first_batch;
      for (size_t s = 0; s < options.warmup; ++s) {
        step(net, next_batch);
        next_batch = (next_batch + 1) % data.images.size();
      }
      for (auto& [name, layer] : net.layers) layer->reset();
      std::vector<double> times;
      const double cpu_start = process_cpu_seconds();
      for (size_t s = 0; s < options.steps; ++s) {
        const auto start = std::chrono::steady_clock::now();
        step(net, next_batch);
        times.push_back(
            std::chrono::duration<double, std::milli>(std::chrono::steady_clock::now() - start)
                .count());
        next_batch = (next_batch + 1) % data.images.size();
      }
      cpu_ms[v].push_back(1e3 * (process_cpu_seconds() - cpu_start) /
                          static_cast<double>(options.steps));
      step_ms[v].push_back(median(times));
      double rest = 0;
      for (double t : times) rest += t / static_cast<double>(options.steps);
      for (size_t l = 0; l < net.layers.size(); ++l) {
        const TimedLayer::Times& t = net.layers[l].second->times();
        layer_ms[v][l][0].push_back(1e3 * t.forward.wall / static_cast<double>(options.steps));
        layer_ms[v][l][1].push_back(1e3 * t.gradient.wall / static_cast<double>(options.steps));
        layer_ms[v][l][2].push_back(1e3 * t.derivative.wall / static_cast<double>(options.steps));
        for (size_t p = 0; p < 3; ++p) rest -= layer_ms[v][l][p].back();
      }
      rest_ms[v].push_back(rest);
    }
  }

  std::printf("%-3s %-50s %10s %12s %13s %9s\n", "", "variant", "step ms", "ratio", "ratio IQR",
              "CPU ms");
  for (size_t v = 0; v < v_count; ++v) {
    std::vector<double> ratios;
    for (size_t r = 0; r < options.rounds; ++r) ratios.push_back(step_ms[v][r] / step_ms[0][r]);
    std::sort(ratios.begin(), ratios.end());
    // The middle half of the per-round ratios, as a spread indicator.
    const double low = ratios[ratios.size() / 4], high = ratios[(3 * ratios.size()) / 4];
    std::printf("(%c) %-50s %10.3f %12.3f %6.3f-%.3f %9.3f\n", variants[v].name,
                variants[v].description, median(step_ms[v]), median(ratios), low, high,
                median(cpu_ms[v]));
  }
  std::printf(
      "step ms: median wall time of a step; ratio: median over rounds of the round's\n"
      "median step time over the first variant's (IQR: middle half of those ratios);\n"
      "CPU ms: CPU time of all threads per step (spinning threads count).\n");

  std::printf(
      "\nper layer, wall ms per step (median over rounds of the round's mean): "
      "forward / calc_gradient / calc_derivative\n%-8s",
      "layer");
  for (const Variant& variant : variants) std::printf("  %24c", variant.name);
  std::printf("\n");
  for (size_t l = 0; l < nets[0].layers.size(); ++l) {
    const TimedLayer::Times& t = nets[0].layers[l].second->times();
    if (t.forward.calls + t.gradient.calls + t.derivative.calls == 0) continue;
    std::printf("%-8s", nets[0].layers[l].first.c_str());
    for (size_t v = 0; v < v_count; ++v)
      std::printf("  %7.3f / %6.3f / %6.3f", median(layer_ms[v][l][0]), median(layer_ms[v][l][1]),
                  median(layer_ms[v][l][2]));
    std::printf("\n");
  }
  std::printf("%-8s", "rest");
  for (size_t v = 0; v < v_count; ++v) std::printf("  %24.3f", median(rest_ms[v]));
  std::printf("   (mean step minus the layers: optimizer, data copy)\n");
  std::printf("load average at the end: %s\n", load_average().c_str());

  std::printf("\nweights after %zu steps, compared with variant %c:\n",
              options.rounds * options.steps, variants[0].name);
  const std::vector<std::string> names = nets[0].model->weightNames();
  for (size_t v = 1; v < v_count; ++v) {
    double max_diff = 0.0;
    bool identical = true;
    for (const std::string& full : names) {
      const size_t colon = full.find(':');
      const std::string layer = full.substr(0, colon), weight = full.substr(colon + 1);
      const edgetrain::Tensor x = nets[0].model->weight(layer, weight);
      const edgetrain::Tensor y = nets[v].model->weight(layer, weight);
      identical = identical && std::memcmp(x.data(), y.data(), x.size() * sizeof(float)) == 0;
      for (size_t i = 0; i < x.size(); ++i)
        max_diff = std::max(max_diff, static_cast<double>(std::abs(x.data()[i] - y.data()[i])));
    }
    std::printf("  (%c) %s (max |difference| %.3g)\n", variants[v].name,
                identical ? "bit-identical" : "differs", max_diff);
  }
  return 0;
}
