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

TEST(AdamW, MatchesPyTorch) { run_optimizer_golden("adamw"); }

TEST(RmsProp, MatchesPyTorch) { run_optimizer_golden("rmsprop"); }

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

TEST(Adam, AmsgradKeepsTheMaximum) {
  EXPECT_EQ(createOptimizer("adam", {"amsgrad=true"})->state_names(),
            (std::vector<std::string>{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}));
}

TEST(AdamW, DefaultsAreTorchs) {
  std::unique_ptr<Optimizer> adamw = createOptimizer("adamw");
  EXPECT_EQ(adamw->type(), "adamw");
  EXPECT_FLOAT_EQ(adamw->base_learning_rate(), 1e-3f);
  EXPECT_EQ(adamw->state_names(), (std::vector<std::string>{"exp_avg", "exp_avg_sq"}));
  EXPECT_EQ(createOptimizer("adamw", {"amsgrad=true"})->state_names(),
            (std::vector<std::string>{"exp_avg", "exp_avg_sq", "max_exp_avg_sq"}));
}

TEST(AdamW, DecaysTheWeightOutsideTheAdaptiveStep) {
  // With a zero gradient Adam's moments stay 0 and its step is 0, so all that moves the
  // weight is the decoupled decay: w * (1 - lr * wd), by default wd = 0.01.
  std::unique_ptr<Optimizer> adamw = createOptimizer("adamw", {"learning_rate=0.5"});
  std::vector<float> values = {2.0f, -4.0f};
  std::vector<float> zeros(2, 0.0f);
  std::vector<std::vector<float>> state(2, std::vector<float>(2, 0.0f));
  Tensor weight(values.data(), TensorShape(1, 1, 1, 2));
  const Tensor grad(zeros.data(), TensorShape(1, 1, 1, 2));
  std::vector<Tensor> views = {Tensor(state[0].data(), TensorShape(1, 1, 1, 2)),
                               Tensor(state[1].data(), TensorShape(1, 1, 1, 2))};
  adamw->apply(weight, grad, views, {0.5f, 1});
  EXPECT_FLOAT_EQ(values[0], 2.0f * (1.0f - 0.5f * 0.01f));
  EXPECT_FLOAT_EQ(values[1], -4.0f * (1.0f - 0.5f * 0.01f));
}

TEST(RmsProp, DefaultsAreTorchs) {
  std::unique_ptr<Optimizer> rmsprop = createOptimizer("rmsprop");
  EXPECT_EQ(rmsprop->type(), "rmsprop");
  EXPECT_FLOAT_EQ(rmsprop->base_learning_rate(), 0.01f);
  EXPECT_EQ(rmsprop->state_names(), std::vector<std::string>{"square_avg"});
}

TEST(RmsProp, StateDependsOnMomentumAndCentered) {
  EXPECT_EQ(createOptimizer("rmsprop", {"momentum=0.9"})->state_names(),
            (std::vector<std::string>{"square_avg", "momentum_buffer"}));
  EXPECT_EQ(createOptimizer("rmsprop", {"centered=true"})->state_names(),
            (std::vector<std::string>{"square_avg", "grad_avg"}));
  EXPECT_EQ(createOptimizer("rmsprop", {"centered=true", "momentum=0.5"})->state_names(),
            (std::vector<std::string>{"square_avg", "momentum_buffer", "grad_avg"}));
}

TEST(RmsProp, BadValuesNameTheKey) {
  expect_error<PropertyError>([] { createOptimizer("rmsprop", {"alpha=1"}); },
                              {"optimizer 'rmsprop'", "alpha", "'1'", "[0, 1)"});
  expect_error<PropertyError>([] { createOptimizer("rmsprop", {"rho=-0.1"}); },
                              {"optimizer 'rmsprop'", "rho", "-0.1", "[0, 1)"});
  for (const char* key : {"learning_rate", "epsilon", "momentum", "weight_decay"}) {
    SCOPED_TRACE(key);
    expect_error<PropertyError>([&] { createOptimizer("rmsprop", {std::string(key) + "=-1"}); },
                                {"optimizer 'rmsprop'", key, "-1", ">= 0"});
  }
  expect_error<PropertyError>([] { createOptimizer("rmsprop", {"beta1=0.9"}); },
                              {"optimizer 'rmsprop'", "beta1", "alpha, epsilon, momentum"});
}

TEST(AdamW, BadValuesNameTheKey) {
  expect_error<PropertyError>([] { createOptimizer("adamw", {"amsgrad=sometimes"}); },
                              {"optimizer 'adamw'", "amsgrad", "sometimes", "true or false"});
  expect_error<PropertyError>([] { createOptimizer("adamw", {"weight_decay=-0.01"}); },
                              {"optimizer 'adamw'", "weight_decay", "-0.01", ">= 0"});
}

TEST(Sgd, TypeAndKeysAreCaseInsensitive) {
  std::unique_ptr<Optimizer> sgd = createOptimizer("SGD", {"Learning_Rate = 0.25"});
  EXPECT_EQ(sgd->type(), "sgd");
  EXPECT_FLOAT_EQ(sgd->base_learning_rate(), 0.25f);
  EXPECT_FLOAT_EQ(createOptimizer("sgd", {"lr=0.5"})->base_learning_rate(), 0.5f);
}

TEST(OptimizerRegistry, UnknownTypeListsKnownTypes) {
  expect_error<UnknownTypeError>([] { createOptimizer("lamb"); },
                                 {"lamb", "adam, adamw, rmsprop, sgd"});
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

}  // namespace edgetrain::testing
