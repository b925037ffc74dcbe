// The same seed and data give the same weights, bit for bit: the example CNN (batch 64,
// 1:28:28, conv 8 -> max-pool -> conv 16 -> max-pool -> fc 128 -> fc 10, Adam) trains
// 3 steps twice, in two separately built models; with 1 and with 2 OpenMP threads (the
// parallel loops split independent work, reductions keep one order, conv2d's weight
// gradient sums fixed chunks); and with OpenBLAS set to another thread count beforehand,
// which the thread policy (src/kernels/threads.h) overrides: OpenBLAS's results depend on
// its thread count.
#include <cblas.h>
#include <gtest/gtest.h>
#include <omp.h>

#include <cmath>
#include <cstring>
#include <memory>
#include <string>
#include <vector>

#include "edgetrain/model.h"
#include "edgetrain/rng.h"

namespace edgetrain::testing {
namespace {

constexpr size_t kBatch = 64, kSteps = 3, kPixels = 28 * 28, kClasses = 10;

std::unique_ptr<Model> example_cnn(size_t batch) {
  auto model = std::make_unique<Model>(std::vector<std::string>{
      "batch_size=" + std::to_string(batch), "loss=cross_entropy", "seed=5"});
  model->addLayer(createLayer("input", {"name=input", "input_shape=1:28:28"}));
  model->addLayer(createLayer(
      "conv2d", {"name=conv1", "filters=8", "kernel_size=3,3", "padding=same", "activation=relu"}));
  model->addLayer(createLayer("pooling2d", {"name=pool1", "pooling=max", "pool_size=2,2"}));
  model->addLayer(createLayer("conv2d", {"name=conv2", "filters=16", "kernel_size=3,3",
                                         "padding=same", "activation=relu"}));
  model->addLayer(createLayer("pooling2d", {"name=pool2", "pooling=max", "pool_size=2,2"}));
  model->addLayer(createLayer("flatten", {"name=flatten"}));
  model->addLayer(createLayer("fully_connected", {"name=fc1", "unit=128", "activation=relu"}));
  model->addLayer(createLayer("fully_connected", {"name=fc2", "unit=10"}));
  model->setOptimizer(createOptimizer("adam", {"learning_rate=0.01"}));
  model->compile();
  model->initialize();
  return model;
}

struct Trained {
  std::vector<float> losses;
  std::vector<std::pair<std::string, std::vector<float>>> weights;
};

// Threads to set before building the model and before training it; 0 leaves them.
struct Threads {
  int blas = 0;         // OpenBLAS, before the model is built (initialize resets it to 1)
  int omp_compile = 0;  // OpenMP, while the model is compiled (conv2d plans its scratch)
  int omp_train = 0;    // OpenMP, while it trains
};

// Restores OpenMP's thread count on destruction.
class OmpThreadsGuard {
 public:
  OmpThreadsGuard() : saved_(omp_get_max_threads()) {}
  ~OmpThreadsGuard() { omp_set_num_threads(saved_); }

 private:
  int saved_;
};

Trained train_example_cnn(Threads threads = {}, size_t batch = kBatch) {
  OmpThreadsGuard guard;
  if (threads.blas > 0) openblas_set_num_threads(threads.blas);
  if (threads.omp_compile > 0) omp_set_num_threads(threads.omp_compile);
  std::unique_ptr<Model> model = example_cnn(batch);
  if (threads.omp_train > 0) omp_set_num_threads(threads.omp_train);
  Rng data(9);
  Trained result;
  for (size_t step = 0; step < kSteps; ++step) {
    Tensor input = model->inputs()[0];
    Tensor label = model->labels()[0];
    for (size_t i = 0; i < input.size(); ++i) input[i] = data.uniform();
    label.fill(0.0f);
    for (size_t s = 0; s < batch; ++s) label[s * kClasses + data.below(kClasses)] = 1.0f;
    result.losses.push_back(model->trainStep());
  }
  for (const std::string& name : model->weightNames()) {
    const size_t colon = name.find(':');
    const Tensor weight = model->weight(name.substr(0, colon), name.substr(colon + 1));
    result.weights.emplace_back(name, std::vector<float>(weight.begin(), weight.end()));
  }
  return result;
}

bool same_bits(const std::vector<float>& a, const std::vector<float>& b) {
  return a.size() == b.size() && std::memcmp(a.data(), b.data(), a.size() * sizeof(float)) == 0;
}

void expect_identical(const Trained& first, const Trained& second) {
  EXPECT_TRUE(same_bits(first.losses, second.losses)) << "the losses differ";
  ASSERT_EQ(first.weights.size(), second.weights.size());
  for (size_t w = 0; w < first.weights.size(); ++w)
    EXPECT_TRUE(same_bits(first.weights[w].second, second.weights[w].second))
        << first.weights[w].first << " differs";
}

TEST(Determinism, SameSeedSameWeightsBitForBit) {
  const Trained first = train_example_cnn();
  const Trained second = train_example_cnn();
  ASSERT_EQ(first.weights.size(), 8u);  // weight and bias of conv1, conv2, fc1, fc2
  for (float loss : first.losses) EXPECT_TRUE(std::isfinite(loss));
  EXPECT_NE(first.losses.front(), first.losses.back());  // it did train
  expect_identical(first, second);
}

TEST(Determinism, OneOrTwoOpenMPThreadsGiveTheSameWeights) {
  const Trained serial = train_example_cnn({.omp_compile = 1, .omp_train = 1});
  const Trained parallel = train_example_cnn({.omp_compile = 2, .omp_train = 2});
  const Trained planned_for_two_run_on_one = train_example_cnn({.omp_compile = 2, .omp_train = 1});
  const Trained planned_for_one_run_on_two = train_example_cnn({.omp_compile = 1, .omp_train = 2});
  expect_identical(serial, parallel);
  expect_identical(serial, planned_for_two_run_on_one);
  expect_identical(serial, planned_for_one_run_on_two);
}

// A batch of one image runs each convolution in fixed parts across the threads.
TEST(Determinism, BatchOfOneGivesTheSameWeightsOnOneOrTwoThreads) {
  const Trained serial = train_example_cnn({.omp_compile = 1, .omp_train = 1}, 1);
  const Trained parallel = train_example_cnn({.omp_compile = 2, .omp_train = 2}, 1);
  EXPECT_NE(serial.losses.front(), serial.losses.back());
  expect_identical(serial, parallel);
}

TEST(Determinism, OpenBlasThreadsSetBeforeInitializeChangeNothing) {
  const Trained one = train_example_cnn({.blas = 1});
  EXPECT_EQ(openblas_get_num_threads(), 1);
  const Trained two = train_example_cnn({.blas = 2});
  EXPECT_EQ(openblas_get_num_threads(), 1);  // Model::initialize applied the policy
  expect_identical(one, two);
}

}  // namespace
}  // namespace edgetrain::testing
