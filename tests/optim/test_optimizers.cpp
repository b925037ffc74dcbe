// Optimizers against torch.optim (tests/golden/optimizers.txt, see
// tools/golden/gen_optimizers.py for the format), plus property and type errors.
#include <gtest/gtest.h>

#include <map>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/optimizer.h"
#include "support/golden.h"

namespace edgetrain::testing {
namespace {

constexpr size_t kSteps = 20;

// One parameter with its optimizer state, owned by the test as the arena would own it.
struct Parameter {
  std::vector<float> values;
  std::vector<std::vector<float>> state;
  TensorShape shape;

  Tensor weight() { return Tensor(values.data(), shape); }
  std::vector<Tensor> state_views() {
    std::vector<Tensor> views;
    for (std::vector<float>& tensor : state) views.emplace_back(tensor.data(), shape);
    return views;
  }
};

// Runs every golden case of `type` for kSteps steps and compares after each step.
void run_optimizer_golden(const std::string& type) {
  const std::vector<GoldenCase> cases = load_golden("optimizers.txt");
  ASSERT_FALSE(cases.empty());
  const GoldenCase& data = cases.front();
  ASSERT_EQ(data.name, "gradients");
  size_t matched = 0;
  for (const GoldenCase& golden : cases) {
    if (golden.type != type) continue;
    ++matched;
    SCOPED_TRACE("golden case " + golden.name);
    std::unique_ptr<Optimizer> optimizer = createOptimizer(golden.type, golden.properties);
    std::map<std::string, Parameter> parameters;
    for (const auto& [key, tensor] : data.tensors) {
      if (key.rfind("param:", 0) != 0) continue;
      Parameter& parameter = parameters[key.substr(6)];
      parameter.values = tensor.values;
      parameter.shape = tensor.shape;
      for (size_t s = 0; s < optimizer->state_names().size(); ++s)
        parameter.state.emplace_back(tensor.values.size(), 0.0f);
    }
    ASSERT_FALSE(parameters.empty());
    const bool failed_before = ::testing::Test::HasFailure();
    // Stops a case at its first wrong step: later steps would only repeat the error.
    for (size_t step = 1; step <= kSteps && failed_before == ::testing::Test::HasFailure();
         ++step) {
      const std::string suffix = std::to_string(step) + ":";
      for (auto& [name, parameter] : parameters) {
        const GoldenTensor& grad_values = data.at("grad:" + suffix + name);
        ASSERT_EQ(grad_values.values.size(), parameter.values.size()) << name;
        const Tensor grad(const_cast<float*>(grad_values.values.data()), parameter.shape);
        Tensor weight = parameter.weight();
        std::vector<Tensor> state = parameter.state_views();
        optimizer->apply(weight, grad, state, {optimizer->base_learning_rate(), step});
        expect_close(parameter.values.data(), golden.at("after:" + suffix + name),
                     "step " + std::to_string(step) + " " + name);
      }
    }
  }
  EXPECT_GT(matched, 0u) << "no golden cases of type " << type;
}

// Expects `create` to throw ErrorType whose message contains every one of `parts`.
template <typename ErrorType, typename Create>
void expect_error(Create create, const std::vector<std::string>& parts) {
  try {
    create();
    ADD_FAILURE() << "expected an error";
  } catch (const ErrorType& error) {
    for (const std::string& part : parts)
      EXPECT_NE(std::string(error.what()).find(part), std::string::npos)
          << "'" << part << "' missing from: " << error.what();
  }
}

}  // namespace

TEST(Sgd, MatchesPyTorch) { run_optimizer_golden("sgd"); }

TEST(Adam, MatchesPyTorch) { run_optimizer_golden("adam"); }

TEST(Sgd, StateDependsOnMomentum) {
  EXPECT_TRUE(createOptimizer("sgd")->state_names().empty());
  EXPECT_EQ(createOptimizer("sgd", {"momentum=0.9"})->state_names(),
            std::vector<std::string>{"momentum_buffer"});
}

TEST(Adam, DefaultsAreTorchs) {
  std::unique_ptr<Optimizer> adam = createOptimizer("adam");
  EXPECT_FLOAT_EQ(adam->base_learning_rate(), 1e-3f);
  EXPECT_EQ(adam->state_names(), (std::vector<std::string>{"exp_avg", "exp_avg_sq"}));
}

TEST(Sgd, TypeAndKeysAreCaseInsensitive) {
  std::unique_ptr<Optimizer> sgd = createOptimizer("SGD", {"Learning_Rate = 0.25"});
  EXPECT_EQ(sgd->type(), "sgd");
  EXPECT_FLOAT_EQ(sgd->base_learning_rate(), 0.25f);
  EXPECT_FLOAT_EQ(createOptimizer("sgd", {"lr=0.5"})->base_learning_rate(), 0.5f);
}

TEST(OptimizerRegistry, UnknownTypeListsKnownTypes) {
  expect_error<UnknownTypeError>([] { createOptimizer("rmsprop"); }, {"rmsprop", "adam", "sgd"});
}

TEST(Sgd, UnknownPropertyNamesTheKey) {
  expect_error<PropertyError>([] { createOptimizer("sgd", {"beta1=0.9"}); },
                              {"optimizer 'sgd'", "beta1", "momentum"});
}

TEST(Adam, UnknownPropertyNamesTheKey) {
  expect_error<PropertyError>([] { createOptimizer("adam", {"momentum=0.9"}); },
                              {"optimizer 'adam'", "momentum", "beta1"});
}

TEST(Sgd, MalformedPropertyIsAnError) {
  expect_error<PropertyError>([] { createOptimizer("sgd", {"momentum"}); },
                              {"optimizer 'sgd'", "momentum", "key=value"});
}

TEST(Sgd, BadValueNamesTheKeyAndValue) {
  expect_error<PropertyError>([] { createOptimizer("sgd", {"learning_rate=fast"}); },
                              {"optimizer 'sgd'", "learning_rate", "fast", "number"});
  expect_error<PropertyError>([] { createOptimizer("sgd", {"nesterov=maybe"}); },
                              {"optimizer 'sgd'", "nesterov", "maybe", "true or false"});
}

TEST(Adam, BadValueNamesTheKeyAndValue) {
  expect_error<PropertyError>([] { createOptimizer("adam", {"epsilon=1e-8x"}); },
                              {"optimizer 'adam'", "epsilon", "1e-8x"});
}

TEST(Adam, BetaOutsideUnitIntervalIsAnError) {
  expect_error<PropertyError>([] { createOptimizer("adam", {"beta1=1"}); },
                              {"optimizer 'adam'", "beta1", "'1'", "[0, 1)"});
  expect_error<PropertyError>([] { createOptimizer("adam", {"beta2=-0.5"}); },
                              {"optimizer 'adam'", "beta2", "-0.5", "[0, 1)"});
}

TEST(Sgd, NegativeValuesAreErrors) {
  for (const char* key : {"learning_rate", "momentum", "weight_decay"}) {
    SCOPED_TRACE(key);
    expect_error<PropertyError>([&] { createOptimizer("sgd", {std::string(key) + "=-0.1"}); },
                                {"optimizer 'sgd'", key, "-0.1", ">= 0"});
  }
}

TEST(Adam, NegativeValuesAreErrors) {
  for (const char* key : {"learning_rate", "epsilon", "weight_decay"}) {
    SCOPED_TRACE(key);
    expect_error<PropertyError>([&] { createOptimizer("adam", {std::string(key) + "=-1"}); },
                                {"optimizer 'adam'", key, "-1", ">= 0"});
  }
}

TEST(Sgd, NesterovWithoutMomentumIsAnError) {
  expect_error<PropertyError>([] { createOptimizer("sgd", {"nesterov=true"}); },
                              {"optimizer 'sgd'", "nesterov", "momentum > 0", "found momentum=0"});
  expect_error<PropertyError>(
      [] {
        createOptimizer("sgd", {"momentum=0.9", "dampening=0.1", "nesterov=true"});
      },
      {"optimizer 'sgd'", "nesterov", "dampening=0", "found dampening=0.1"});
}

TEST(Sgd, NesterovMayComeBeforeMomentum) {
  // Properties are checked together once all are set, so their order does not matter.
  EXPECT_NO_THROW(createOptimizer("sgd", {"nesterov=true", "momentum=0.9"}));
}

TEST(Scheduler, ConstantReturnsTheOptimizerRate) {
  std::unique_ptr<LearningRateScheduler> scheduler = createLearningRateScheduler("constant");
  EXPECT_EQ(scheduler->type(), "constant");
  for (size_t iteration : {0u, 1u, 1000u})
    EXPECT_EQ(scheduler->learning_rate(iteration, 0.125f), 0.125f);
}

TEST(Scheduler, ConstantReturnsItsOwnRateWhenSet) {
  std::unique_ptr<LearningRateScheduler> scheduler =
      createLearningRateScheduler("constant", {"learning_rate=0.5"});
  for (size_t iteration : {0u, 7u, 1000u})
    EXPECT_EQ(scheduler->learning_rate(iteration, 0.125f), 0.5f);
}

TEST(Scheduler, NegativeRateIsAnError) {
  expect_error<PropertyError>(
      [] { createLearningRateScheduler("constant", {"learning_rate=-0.5"}); },
      {"learning rate scheduler 'constant'", "learning_rate", "-0.5", ">= 0"});
}

TEST(Scheduler, UnknownTypeListsKnownTypes) {
  expect_error<UnknownTypeError>([] { createLearningRateScheduler("cosine"); },
                                 {"cosine", "constant"});
}

TEST(Scheduler, UnknownPropertyNamesTheKey) {
  expect_error<PropertyError>([] { createLearningRateScheduler("constant", {"gamma=0.1"}); },
                              {"learning rate scheduler 'constant'", "gamma", "learning_rate"});
}

}  // namespace edgetrain::testing
