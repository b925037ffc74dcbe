// Optimizer and scheduler type names -> factories.
#include <functional>
#include <map>

#include "edgetrain/error.h"
#include "edgetrain/optimizer.h"
#include "edgetrain/properties.h"
#include "optim/adam.h"
#include "optim/constant_scheduler.h"
#include "optim/sgd.h"

namespace edgetrain {
namespace {

template <typename Base>
using Factories = std::map<std::string, std::function<std::unique_ptr<Base>()>>;

const Factories<Optimizer>& optimizer_factories() {
  static const Factories<Optimizer> factories = {
      {"sgd", [] { return std::make_unique<Sgd>(); }},
      {"adam", [] { return std::make_unique<Adam>(); }},
  };
  return factories;
}

const Factories<LearningRateScheduler>& scheduler_factories() {
  static const Factories<LearningRateScheduler> factories = {
      {"constant", [] { return std::make_unique<ConstantScheduler>(); }},
  };
  return factories;
}

template <typename Base>
std::unique_ptr<Base> create(const Factories<Base>& factories, const char* what,
                             const std::string& type, const std::vector<std::string>& properties) {
  const std::string name = to_lower(type);
  auto found = factories.find(name);
  if (found == factories.end()) {
    std::string known;
    for (const auto& [key, unused] : factories) known += (known.empty() ? "" : ", ") + key;
    throw UnknownTypeError(std::string("unknown ") + what + " type '" + type + "' (known types: " + known + ")");
  }
  std::unique_ptr<Base> object = found->second();
  const std::string owner = std::string(what) + " '" + name + "'";
  for (const std::string& text : properties) {
    auto [key, value] = split_property(text, owner);
    if (!object->set_property(key, value, owner)) throw_unknown_property(owner, key, object->property_keys());
  }
  object->validate(owner);
  return object;
}

}  // namespace

std::unique_ptr<Optimizer> createOptimizer(const std::string& type,
                                           const std::vector<std::string>& properties) {
  return create(optimizer_factories(), "optimizer", type, properties);
}

std::unique_ptr<LearningRateScheduler> createLearningRateScheduler(
    const std::string& type, const std::vector<std::string>& properties) {
  return create(scheduler_factories(), "learning rate scheduler", type, properties);
}

}  // namespace edgetrain
