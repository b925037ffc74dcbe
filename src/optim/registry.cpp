// Optimizer and scheduler type names -> factories.
#include "optim/registry.h"

#include <functional>
#include <map>

#include "edgetrain/error.h"
#include "edgetrain/optimizer.h"
#include "edgetrain/properties.h"
#include "optim/adam.h"
#include "optim/adamw.h"
#include "optim/constant_scheduler.h"
#include "optim/cosine_scheduler.h"
#include "optim/exponential_scheduler.h"
#include "optim/linear_scheduler.h"
#include "optim/reduce_on_plateau_scheduler.h"
#include "optim/rmsprop.h"
#include "optim/sgd.h"
#include "optim/step_scheduler.h"
#include "optim/warmup_scheduler.h"

namespace edgetrain {
namespace {

template <typename Base>
using Factories = std::map<std::string, std::function<std::unique_ptr<Base>()>>;

const Factories<Optimizer>& optimizer_factories() {
  static const Factories<Optimizer> factories = {
      {"sgd", [] { return std::make_unique<Sgd>(); }},
      {"adam", [] { return std::make_unique<Adam>(); }},
      {"adamw", [] { return std::make_unique<AdamW>(); }},
      {"rmsprop", [] { return std::make_unique<RmsProp>(); }},
  };
  return factories;
}

const Factories<LearningRateScheduler>& scheduler_factories() {
  static const Factories<LearningRateScheduler> factories = {
      {"constant", [] { return std::make_unique<ConstantScheduler>(); }},
      {"cosine", [] { return std::make_unique<CosineScheduler>(); }},
      {"exponential", [] { return std::make_unique<ExponentialScheduler>(); }},
      {"linear", [] { return std::make_unique<LinearScheduler>(); }},
      {"reduce_on_plateau", [] { return std::make_unique<ReduceOnPlateauScheduler>(); }},
      {"step", [] { return std::make_unique<StepScheduler>(); }},
      {"warmup", [] { return std::make_unique<WarmupScheduler>(); }},
  };
  return factories;
}

template <typename Base>
std::string type_names(const Factories<Base>& factories) {
  std::string names;
  for (const auto& [name, unused] : factories) names += (names.empty() ? "" : ", ") + name;
  return names;
}

// The object of `type` (any case) with its defaults. Throws UnknownTypeError.
template <typename Base>
std::unique_ptr<Base> instantiate(const Factories<Base>& factories, const char* what,
                                  const std::string& type) {
  auto found = factories.find(to_lower(type));
  if (found == factories.end())
    throw UnknownTypeError(std::string("unknown ") + what + " type '" + type +
                           "' (known types: " + type_names(factories) + ")");
  return found->second();
}

template <typename Base>
std::unique_ptr<Base> create(const Factories<Base>& factories, const char* what,
                             const std::string& type, const std::vector<std::string>& properties) {
  std::unique_ptr<Base> object = instantiate(factories, what, type);
  const std::string owner = std::string(what) + " '" + object->type() + "'";
  for (const std::string& text : properties) {
    auto [key, value] = split_property(text, owner);
    if (!object->set_property(key, value, owner))
      throw_unknown_property(owner, key, object->property_keys());
  }
  object->validate(owner);
  return object;
}

}  // namespace

std::unique_ptr<Optimizer> new_optimizer(const std::string& type) {
  return instantiate(optimizer_factories(), "optimizer", type);
}

std::unique_ptr<LearningRateScheduler> new_scheduler(const std::string& type) {
  return instantiate(scheduler_factories(), "learning rate scheduler", type);
}

std::vector<std::string> scheduler_types() {
  std::vector<std::string> types;
  for (const auto& [name, unused] : scheduler_factories()) types.push_back(name);
  return types;
}

std::unique_ptr<Optimizer> createOptimizer(const std::string& type,
                                           const std::vector<std::string>& properties) {
  return create(optimizer_factories(), "optimizer", type, properties);
}

std::unique_ptr<LearningRateScheduler> createLearningRateScheduler(
    const std::string& type, const std::vector<std::string>& properties) {
  return create(scheduler_factories(), "learning rate scheduler", type, properties);
}

}  // namespace edgetrain
