// Golden values produced by PyTorch (tools/golden/*.py, run with Debian's python3-torch)
// and committed under tests/golden/. Text format, one case after another:
//
//   case NAME
//   type LAYER_TYPE
//   props key=value;key=value          (';' separates; values may hold commas)
//   mode train|eval
//   inputs N:C:H:W [N:C:H:W ...]
//   seed S                             (optional: reseeds the random stream before forward)
//   tensor KEY N:C:H:W
//   v v v ...                          (row-major, %.9g)
//   end
//
// Tensor keys: input:I, label, weight:NAME (set before forward), output:K,
// output_grad:K (set before backward), input_grad:I, weight_grad:NAME,
// weight_after:NAME (checked after forward, e.g. running statistics).
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include "edgetrain/tensor.h"

namespace edgetrain::testing {

struct GoldenTensor {
  TensorShape shape;
  std::vector<float> values;
};

struct GoldenCase {
  std::string name;
  std::string type;
  std::vector<std::string> properties;
  bool training = true;
  std::optional<uint64_t> seed;
  std::vector<TensorShape> input_shapes;
  std::map<std::string, GoldenTensor> tensors;

  bool has(const std::string& key) const { return tensors.count(key) > 0; }
  const GoldenTensor& at(const std::string& key) const;
};

// Reads tests/golden/FILE. Fails the calling test (ADD_FAILURE) if the file is missing.
std::vector<GoldenCase> load_golden(const std::string& file);

// Expects |actual - expected| <= rtol * |expected| + atol * max|expected| element-wise.
void expect_close(const float* actual, const GoldenTensor& expected, const std::string& what,
                  float rtol = 1e-5f, float atol = 1e-5f);

// Runs every case of FILE through LayerHarness and compares outputs and gradients.
void run_layer_golden_file(const std::string& file, float rtol = 1e-5f, float atol = 1e-5f);

}  // namespace edgetrain::testing
