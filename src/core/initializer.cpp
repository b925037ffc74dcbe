#include "edgetrain/initializer.h"

#include <cmath>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/properties.h"

namespace edgetrain {
namespace {

struct NamedInitializer {
  const char* name;
  Initializer initializer;
};

const std::vector<NamedInitializer>& initializer_names() {
  static const std::vector<NamedInitializer> names = {
      {"zeros", Initializer::zeros},
      {"ones", Initializer::ones},
      {"xavier_uniform", Initializer::xavier_uniform},
      {"glorot_uniform", Initializer::xavier_uniform},
      {"xavier_normal", Initializer::xavier_normal},
      {"glorot_normal", Initializer::xavier_normal},
      {"he_uniform", Initializer::he_uniform},
      {"kaiming_uniform", Initializer::he_uniform},
      {"he_normal", Initializer::he_normal},
      {"kaiming_normal", Initializer::he_normal},
      {"lecun_uniform", Initializer::lecun_uniform},
      {"lecun_normal", Initializer::lecun_normal},
  };
  return names;
}

}  // namespace

Initializer parse_initializer(const std::string& value, const std::string& owner,
                              const std::string& key) {
  std::vector<std::string> choices;
  for (const NamedInitializer& entry : initializer_names()) choices.push_back(entry.name);
  std::string name = parse_choice(value, choices, owner, key);
  for (const NamedInitializer& entry : initializer_names())
    if (name == entry.name) return entry.initializer;
  ET_ASSERT(false, "initializer list is inconsistent");
}

const char* initializer_name(Initializer initializer) {
  for (const NamedInitializer& entry : initializer_names())
    if (entry.initializer == initializer) return entry.name;
  return "unknown";
}

void initialize(Tensor& tensor, Initializer initializer, size_t fan_in, size_t fan_out, Rng& rng) {
  const float in = static_cast<float>(fan_in == 0 ? 1 : fan_in);
  const float out = static_cast<float>(fan_out == 0 ? 1 : fan_out);
  auto fill_uniform = [&](float bound) {
    for (float& value : tensor) value = rng.uniform(-bound, bound);
  };
  auto fill_normal = [&](float stddev) {
    for (float& value : tensor) value = rng.normal(0.0f, stddev);
  };
  switch (initializer) {
    case Initializer::zeros:
      tensor.fill(0.0f);
      break;
    case Initializer::ones:
      tensor.fill(1.0f);
      break;
    case Initializer::xavier_uniform:
      fill_uniform(std::sqrt(6.0f / (in + out)));
      break;
    case Initializer::xavier_normal:
      fill_normal(std::sqrt(2.0f / (in + out)));
      break;
    case Initializer::he_uniform:
      fill_uniform(std::sqrt(6.0f / in));
      break;
    case Initializer::he_normal:
      fill_normal(std::sqrt(2.0f / in));
      break;
    case Initializer::lecun_uniform:
      fill_uniform(std::sqrt(3.0f / in));
      break;
    case Initializer::lecun_normal:
      fill_normal(std::sqrt(1.0f / in));
      break;
  }
}

}  // namespace edgetrain
