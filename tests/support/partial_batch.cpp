#include "support/partial_batch.h"

#include <gtest/gtest.h>

#include <memory>

#include "edgetrain/model.h"

namespace edgetrain::testing {
namespace {

std::unique_ptr<Model> build(const std::string& type, const std::vector<std::string>& properties,
                             const TensorShape& sample_shape, size_t unit, size_t compiled_batch) {
  auto model = std::make_unique<Model>(std::vector<std::string>{
      "batch_size=" + std::to_string(compiled_batch), "loss=mse", "seed=3"});
  model->addLayer(createLayer("input", {"name=in", "input_shape=" + sample_shape.str()}));
  model->addLayer(createLayer("fully_connected", {"name=fc", "unit=" + std::to_string(unit)}));
  std::vector<std::string> props = properties;
  props.push_back("name=under_test");
  model->addLayer(createLayer(type, props));
  model->setOptimizer(createOptimizer("sgd", {"learning_rate=0.1"}));
  model->compile();
  model->initialize();
  return model;
}

// Fills the first `batch` samples deterministically and the rest with junk.
void fill(Tensor tensor, size_t batch, uint64_t seed) {
  Rng rng(seed);
  const size_t used = batch * tensor.shape().feature_size();
  for (size_t i = 0; i < tensor.size(); ++i) tensor[i] = i < used ? rng.uniform(-2.0f, 2.0f) : 1e3f;
}

}  // namespace

void expect_partial_batch_matches(const std::string& type,
                                  const std::vector<std::string>& properties,
                                  const TensorShape& sample_shape, size_t unit, size_t batch) {
  std::unique_ptr<Model> larger = build(type, properties, sample_shape, unit, batch + 1);
  std::unique_ptr<Model> exact = build(type, properties, sample_shape, unit, batch);
  for (Model* model : {larger.get(), exact.get()}) {
    fill(model->inputs()[0], batch, 11);
    fill(model->labels()[0], batch, 12);
  }
  EXPECT_FLOAT_EQ(larger->trainStep(batch), exact->trainStep(batch));

  // Outputs are compared after an evaluation forward: backward may reuse their memory.
  larger->forward(batch, false);
  exact->forward(batch, false);
  const Tensor larger_output = larger->outputs()[0];
  const Tensor exact_output = exact->outputs()[0];
  for (size_t i = 0; i < exact_output.size(); ++i)
    EXPECT_FLOAT_EQ(larger_output[i], exact_output[i]) << "output[" << i << "]";
  for (const std::string& full_name : exact->weightNames()) {
    const size_t colon = full_name.find(':');
    const std::string layer = full_name.substr(0, colon), name = full_name.substr(colon + 1);
    const Tensor expected = exact->weight(layer, name);
    const Tensor actual = larger->weight(layer, name);
    for (size_t i = 0; i < expected.size(); ++i)
      EXPECT_FLOAT_EQ(actual[i], expected[i]) << full_name << "[" << i << "]";
  }
}

}  // namespace edgetrain::testing
