// The type-name -> factory table. Adding a layer adds one line here.
#include <algorithm>
#include <map>
#include <mutex>

#include "edgetrain/error.h"
#include "edgetrain/layer.h"
#include "layers/activation.h"
#include "layers/addition.h"
#include "layers/batch_normalization.h"
#include "layers/concat.h"
#include "layers/conv2d.h"
#include "layers/conv2d_transpose.h"
#include "layers/dropout.h"
#include "layers/flatten.h"
#include "layers/fully_connected.h"
#include "layers/input.h"
#include "layers/losses/bce_with_logits.h"
#include "layers/losses/cross_entropy.h"
#include "layers/losses/focal_loss.h"
#include "layers/losses/mse.h"
#include "layers/losses/vae_loss.h"
#include "layers/multiout.h"
#include "layers/pooling2d.h"
#include "layers/reparametrize.h"
#include "layers/reshape.h"

namespace edgetrain {
namespace {

template <typename LayerType>
LayerFactory factory() {
  return [] { return std::make_unique<LayerType>(); };
}

struct Registry {
  std::mutex mutex;
  std::map<std::string, LayerFactory> factories = {
      {"input", factory<InputLayer>()},
      {"fully_connected", factory<FullyConnectedLayer>()},
      {"conv2d", factory<Conv2DLayer>()},
      {"conv2dtranspose", factory<Conv2DTransposeLayer>()},
      {"multiout", factory<MultiOutLayer>()},
      {"activation", factory<ActivationLayer>()},
      {"batch_normalization", factory<BatchNormalizationLayer>()},
      {"dropout", factory<DropoutLayer>()},
      {"mse", factory<MseLoss>()},
      {"cross_entropy", factory<CrossEntropyLoss>()},
      {"focal_loss", factory<FocalLoss>()},
      {"bce_with_logits", factory<BceWithLogitsLoss>()},
      {"vae_loss", factory<VaeLoss>()},
      {"pooling2d", factory<Pooling2DLayer>()},
      {"flatten", factory<FlattenLayer>()},
      {"reshape", factory<ReshapeLayer>()},
      {"concat", factory<ConcatLayer>()},
      {"addition", factory<AdditionLayer>()},
      {"reparametrize", factory<ReparametrizeLayer>()},
  };
};

Registry& registry() {
  static Registry instance;
  return instance;
}

}  // namespace

void register_layer_type(const std::string& type, LayerFactory factory) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  reg.factories[type] = std::move(factory);
}

std::unique_ptr<Layer> make_layer(const std::string& type) {
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  auto found = reg.factories.find(type);
  if (found != reg.factories.end()) return found->second();
  std::string known;
  for (const auto& [name, unused] : reg.factories) known += (known.empty() ? "" : ", ") + name;
  throw UnknownTypeError("unknown layer type '" + type + "' (known types: " + known + ")");
}

std::vector<std::string> registered_layer_types() {
  Registry& reg = registry();
  std::lock_guard lock(reg.mutex);
  std::vector<std::string> types;
  for (const auto& [name, unused] : reg.factories) types.push_back(name);
  return types;
}

}  // namespace edgetrain
