#include "support/golden.h"

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>
#include <sstream>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"
#include "support/layer_harness.h"

namespace edgetrain::testing {

const GoldenTensor& GoldenCase::at(const std::string& key) const {
  auto found = tensors.find(key);
  if (found == tensors.end()) throw Error("golden case " + name + " has no tensor " + key);
  return found->second;
}

std::vector<GoldenCase> load_golden(const std::string& file) {
  const std::string path = std::string(EDGETRAIN_GOLDEN_DIR) + "/" + file;
  std::ifstream in(path);
  std::vector<GoldenCase> cases;
  if (!in) {
    ADD_FAILURE() << "missing golden file " << path << " (run tools/golden/generate.sh)";
    return cases;
  }
  std::string line;
  GoldenCase current;
  while (std::getline(in, line)) {
    std::istringstream words(line);
    std::string word;
    words >> word;
    if (word == "case") {
      current = GoldenCase();
      words >> current.name;
    } else if (word == "type") {
      words >> current.type;
    } else if (word == "props") {
      std::string rest;
      std::getline(words, rest);
      for (const std::string& property : split_list(rest, ';'))
        if (!property.empty()) current.properties.push_back(property);
    } else if (word == "mode") {
      std::string mode;
      words >> mode;
      current.training = mode == "train";
    } else if (word == "seed") {
      uint64_t seed = 0;
      words >> seed;
      current.seed = seed;
    } else if (word == "inputs") {
      std::string shape;
      while (words >> shape) current.input_shapes.push_back(TensorShape::parse(shape));
    } else if (word == "tensor") {
      std::string key, shape;
      words >> key >> shape;
      GoldenTensor tensor;
      tensor.shape = TensorShape::parse(shape);
      std::string values;
      std::getline(in, values);
      std::istringstream numbers(values);
      float value;
      while (numbers >> value) tensor.values.push_back(value);
      EXPECT_EQ(tensor.values.size(), tensor.shape.size())
          << path << " " << current.name << " " << key;
      current.tensors[key] = std::move(tensor);
    } else if (word == "end") {
      cases.push_back(current);
    }
  }
  EXPECT_FALSE(cases.empty()) << "no cases in " << path;
  return cases;
}

void expect_close(const float* actual, const GoldenTensor& expected, const std::string& what,
                  float rtol, float atol) {
  float scale = 0.0f;
  for (float value : expected.values) scale = std::max(scale, std::abs(value));
  size_t failures = 0;
  for (size_t i = 0; i < expected.values.size(); ++i) {
    const float e = expected.values[i];
    if (std::abs(actual[i] - e) <= rtol * std::abs(e) + atol * scale) continue;
    if (++failures <= 5)
      ADD_FAILURE() << what << "[" << i << "]: got " << actual[i] << ", PyTorch " << e;
  }
  if (failures > 5) ADD_FAILURE() << what << ": " << failures << " elements differ in all";
}

void run_layer_golden_file(const std::string& file, float rtol, float atol) {
  for (const GoldenCase& golden : load_golden(file)) {
    SCOPED_TRACE("golden case " + golden.name);
    LayerHarness harness(golden.type, golden.properties, golden.input_shapes);
    for (size_t i = 0; i < golden.input_shapes.size(); ++i) {
      const GoldenTensor& input = golden.at("input:" + std::to_string(i));
      std::copy(input.values.begin(), input.values.end(), harness.input(i).data());
    }
    if (golden.has("label")) {
      const GoldenTensor& label = golden.at("label");
      std::copy(label.values.begin(), label.values.end(), harness.label().data());
    }
    for (const std::string& name : harness.weight_names()) {
      if (!golden.has("weight:" + name)) continue;
      const GoldenTensor& weight = golden.at("weight:" + name);
      Tensor target = harness.weight(name);
      ASSERT_EQ(target.size(), weight.values.size())
          << "weight " << name << " of shape " << target.shape().str();
      std::copy(weight.values.begin(), weight.values.end(), target.data());
    }
    if (golden.seed) harness.reseed(*golden.seed);
    harness.forward(golden.training);
    for (size_t k = 0; k < harness.num_outputs(); ++k) {
      const std::string key = "output:" + std::to_string(k);
      if (!golden.has(key)) continue;
      ASSERT_EQ(harness.output(k).shape(), golden.at(key).shape) << key;
      expect_close(harness.output(k).data(), golden.at(key), key, rtol, atol);
    }
    for (const std::string& name : harness.weight_names())
      if (golden.has("weight_after:" + name))
        expect_close(harness.weight(name).data(), golden.at("weight_after:" + name),
                     "weight_after:" + name, rtol, atol);
    bool any_grad = false;
    for (size_t k = 0; k < harness.num_outputs() && !harness.is_loss(); ++k) {
      const std::string key = "output_grad:" + std::to_string(k);
      if (!golden.has(key)) continue;
      any_grad = true;
      std::copy(golden.at(key).values.begin(), golden.at(key).values.end(),
                harness.output_grad(k).data());
    }
    if (!any_grad && !harness.is_loss()) continue;
    harness.backward();
    for (size_t i = 0; i < golden.input_shapes.size(); ++i) {
      const std::string key = "input_grad:" + std::to_string(i);
      if (golden.has(key))
        expect_close(harness.input_grad(i).data(), golden.at(key), key, rtol, atol);
    }
    for (const std::string& name : harness.weight_names()) {
      const std::string key = "weight_grad:" + name;
      if (!golden.has(key)) continue;
      const std::vector<float>& grad = harness.weight_grad(name);
      ASSERT_EQ(grad.size(), golden.at(key).values.size()) << key;
      expect_close(grad.data(), golden.at(key), key, rtol, atol);
    }
  }
}

}  // namespace edgetrain::testing
