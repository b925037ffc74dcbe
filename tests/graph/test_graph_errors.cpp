// Bad input to the model description gives a typed error that names what is wrong.
#include <gtest/gtest.h>

#include "edgetrain/error.h"
#include "edgetrain/model.h"

namespace edgetrain {
namespace {

// Runs `action`, expects ErrorType, and returns its message.
template <typename ErrorType, typename Action>
std::string error_message(Action action) {
  try {
    action();
  } catch (const ErrorType& error) {
    return error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "wrong error type: " << error.what();
    return "";
  }
  ADD_FAILURE() << "no error";
  return "";
}

void expect_contains(const std::string& text, const std::string& part) {
  EXPECT_NE(text.find(part), std::string::npos) << "'" << part << "' not in: " << text;
}

TEST(GraphErrors, UnknownLayerTypeListsKnownTypes) {
  std::string message = error_message<UnknownTypeError>([] { createLayer("fully_conected"); });
  expect_contains(message, "fully_conected");
  expect_contains(message, "fully_connected");
  expect_contains(message, "input");
}

TEST(GraphErrors, UnknownPropertyNamesLayerAndKey) {
  std::string message = error_message<PropertyError>([] {
    createLayer("fully_connected", {"name=fc1", "unit=3", "untis=4"});
  });
  expect_contains(message, "fc1");
  expect_contains(message, "untis");
  expect_contains(message, "unit");  // the list of known keys
}

TEST(GraphErrors, MalformedPropertyNamesLayer) {
  std::string message = error_message<PropertyError>([] {
    createLayer("fully_connected", {"name=fc1", "unit3"});
  });
  expect_contains(message, "fc1");
  expect_contains(message, "unit3");
}

TEST(GraphErrors, BadPropertyValueNamesKeyAndValue) {
  std::string message = error_message<PropertyError>([] {
    createLayer("fully_connected", {"name=fc1", "unit=ten"});
  });
  expect_contains(message, "fc1");
  expect_contains(message, "unit");
  expect_contains(message, "ten");
}

TEST(GraphErrors, BadInputShape) {
  std::string message = error_message<PropertyError>([] {
    createLayer("input", {"name=in", "input_shape=1:x:28"});
  });
  expect_contains(message, "in");
  expect_contains(message, "1:x:28");
}

TEST(GraphErrors, MissingInputLayerTarget) {
  Model model;
  model.addLayer(createLayer("input", {"name=in", "input_shape=1:1:4"}));
  model.addLayer(createLayer("fully_connected", {"name=fc1", "unit=2", "input_layers=inn"}));
  std::string message = error_message<GraphError>([&] { model.compile(); });
  expect_contains(message, "fc1");
  expect_contains(message, "'inn'");
  expect_contains(message, "in, fc1");
}

TEST(GraphErrors, CycleNamesTheLayers) {
  Model model;
  model.addLayer(createLayer("input", {"name=in", "input_shape=1:1:4"}));
  model.addLayer(createLayer("fully_connected", {"name=a", "unit=4", "input_layers=b"}));
  model.addLayer(createLayer("fully_connected", {"name=b", "unit=4", "input_layers=a"}));
  std::string message = error_message<GraphError>([&] { model.compile(); });
  expect_contains(message, "cycle");
  expect_contains(message, "'a'");
  expect_contains(message, "'b'");
}

TEST(GraphErrors, DuplicateNames) {
  Model model;
  model.addLayer(createLayer("input", {"name=x", "input_shape=1:1:4"}));
  model.addLayer(createLayer("fully_connected", {"name=x", "unit=4"}));
  expect_contains(error_message<GraphError>([&] { model.compile(); }), "'x'");
}

TEST(GraphErrors, FirstLayerWithoutInput) {
  Model model;
  model.addLayer(createLayer("fully_connected", {"name=fc", "unit=4"}));
  std::string message = error_message<GraphError>([&] { model.compile(); });
  expect_contains(message, "fc");
  expect_contains(message, "input_shape");
}

TEST(GraphErrors, InputLayerWithoutShape) {
  Model model;
  model.addLayer(createLayer("input", {"name=in"}));
  std::string message = error_message<PropertyError>([&] { model.compile(); });
  expect_contains(message, "in");
  expect_contains(message, "input_shape");
}

TEST(GraphErrors, UnknownLossAndModelProperty) {
  Model model;
  expect_contains(error_message<UnknownTypeError>([&] { model.setProperty({"loss=mae"}); }), "mae");
  expect_contains(error_message<PropertyError>([&] { model.setProperty({"batchsize=3"}); }),
                  "batchsize");
  expect_contains(error_message<PropertyError>([&] { model.setProperty({"batch_size=0"}); }),
                  "batch_size");
}

TEST(GraphErrors, TrainingWithoutOptimizerOrBeforeInitialize) {
  Model model({"loss=mse"});
  model.addLayer(createLayer("fully_connected", {"unit=2", "input_shape=1:1:3"}));
  expect_contains(error_message<StateError>([&] { model.trainStep(); }), "initialize");
  model.compile();
  model.initialize();
  expect_contains(error_message<StateError>([&] { model.trainStep(); }), "optimizer");
}

TEST(GraphErrors, UnknownOptimizer) {
  std::string message = error_message<UnknownTypeError>([] { createOptimizer("adamax"); });
  expect_contains(message, "adamax");
  expect_contains(message, "sgd");
}

}  // namespace
}  // namespace edgetrain
