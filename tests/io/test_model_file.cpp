// Model files: an NNTrainer-dialect file builds the same model as the C++ API; NNTrainer's
// Flatten, Activation and Loss = cross keys; data sets, overrides, and errors that name
// the file and line.
#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/model_file.h"

namespace edgetrain {
namespace {

// A folder of its own for the current test under the test temp dir.
std::filesystem::path test_folder() {
  const ::testing::TestInfo* test = ::testing::UnitTest::GetInstance()->current_test_info();
  std::filesystem::path folder = std::filesystem::path(::testing::TempDir()) /
                                 "edgetrain_model_file" / test->test_suite_name() / test->name();
  std::filesystem::create_directories(folder);
  return folder;
}

// Writes `text` to `name` in the test's folder; returns the path.
std::string write_file(const std::string& text, const std::string& name = "model.ini") {
  const std::filesystem::path path = test_folder() / name;
  std::ofstream(path) << text;
  return path.string();
}

// The message of the ModelFileError that loading throws.
std::string load_error(const std::string& path, const std::vector<std::string>& overrides = {}) {
  try {
    load_model_file(path, overrides);
  } catch (const ModelFileError& error) {
    return error.what();
  }
  ADD_FAILURE() << "no error loading " << path;
  return "";
}

// Expects loading to fail at `where` ("model.ini:7"), with `fragment` in the message.
void expect_error(const std::string& text, const std::string& where, const std::string& fragment,
                  const std::vector<std::string>& overrides = {}) {
  const std::string path = write_file(text);
  const std::string dir = std::filesystem::path(path).parent_path().string() + "/";
  const std::string message = load_error(path, overrides);
  const std::string location = where.starts_with("override") ? where : dir + where;
  EXPECT_TRUE(message.starts_with(location + ": ")) << message;
  EXPECT_NE(message.find(fragment), std::string::npos) << message;
}

std::string summary(Model& model) {
  std::ostringstream text;
  model.summary(text);
  return text.str();
}

// Deterministic values in [-1, 1].
std::vector<float> pattern(size_t count, float phase) {
  std::vector<float> values(count);
  for (size_t i = 0; i < count; ++i) values[i] = std::sin(0.37f * static_cast<float>(i) + phase);
  return values;
}

// Compiles and initializes both models, then expects them to be the same: the same layer
// table, the same outputs for the same inputs, and (when `train`) the same losses and
// outputs over a few training steps.
void expect_same_model(Model& loaded, Model& built, bool train = true) {
  loaded.compile();
  built.compile();
  EXPECT_EQ(summary(loaded), summary(built));
  loaded.initialize();
  built.initialize();
  const size_t input_size = loaded.inputs().at(0).size() / loaded.batchSize();
  const std::vector<float> input = pattern(input_size * 3, 0.5f);
  const std::vector<float> ours = loaded.predict(input, 3);
  const std::vector<float> theirs = built.predict(input, 3);
  ASSERT_EQ(ours.size(), theirs.size());
  for (size_t i = 0; i < ours.size(); ++i) EXPECT_FLOAT_EQ(ours[i], theirs[i]) << "output " << i;
  if (!train) return;
  for (int step = 0; step < 3; ++step) {
    for (Model* model : {&loaded, &built}) {
      Tensor in = model->inputs().at(0);
      Tensor label = model->labels().at(0);
      const std::vector<float> x = pattern(in.size(), static_cast<float>(step));
      std::copy(x.begin(), x.end(), in.data());
      // A one-hot (or 0/1) target, the same for both models.
      std::fill(label.data(), label.data() + label.size(), 0.0f);
      const size_t width = label.shape().width;
      for (size_t row = 0; row < label.size() / width; ++row)
        label.data()[row * width + (row + step) % width] = 1.0f;
    }
    EXPECT_FLOAT_EQ(loaded.trainStep(), built.trainStep()) << "step " << step;
  }
  const std::vector<float> trained = loaded.predict(input, 3);
  const std::vector<float> trained_built = built.predict(input, 3);
  for (size_t i = 0; i < trained.size(); ++i)
    EXPECT_FLOAT_EQ(trained[i], trained_built[i]) << "output " << i << " after training";
}

// A CNN written as NNTrainer's Applications write their models.
constexpr const char* kNNTrainerCnn = R"(# Network Section : Network
[Model]
Type = NeuralNetwork	# Network Type : Regression, KNN, NeuralNetwork
Epochs = 2		# Epochs
Loss = cross  		# Loss function : mse (mean squared error)
                        #                 cross ( for cross entropy )
Save_Path = "mnist_model.bin"  	# model path to save / read
batch_size = 4		# batch size
seed = 7

[Optimizer]
Type = adam
Learning_rate = 1e-2 	# Learning Rate
beta1 = 0.9 		# beta 1 for adam
beta2 = 0.999	# beta 2 for adam
epsilon = 1e-7	# epsilon for adam

# Layer Section : Name
[inputlayer]
Type = input
Input_Shape = 1:28:28

[conv2d_c1_layer]
Type = conv2d
input_layers = inputlayer
Filters = 8
Kernel_Size = 3,3
Stride = 1,1
Padding = same
Activation = relu
Weight_Initializer = xavier_uniform
Bias_Initializer = zeros

[pooling2d_p1]
Type = pooling2d
input_layers = conv2d_c1_layer
pooling = max
pool_size = 2,2
Stride = 2,2

[conv2d_c2_layer]
Type = conv2d
Filters = 16
Kernel_Size = 3,3
Padding = 1,1
Activation = relu

[pooling2d_p2]
Type = pooling2d
pooling = max
pool_size = 2,2
Stride = 2,2

[flatten]
Type = flatten

[outputlayer]
Type = fully_connected
Unit = 10		# Output Layer Dimension ( = Weight Width )
Activation = softmax 	# activation : sigmoid, softmax
)";

TEST(ModelFile, NNTrainerCnnIsTheSameModelAsTheCppApi) {
  ModelFile file = load_model_file(write_file(kNNTrainerCnn));

  Model built({"batch_size=4", "epochs=2", "loss=cross_entropy", "seed=7"});
  built.addLayer(createLayer("input", {"name=inputlayer", "input_shape=1:28:28"}));
  built.addLayer(
      createLayer("conv2d", {"name=conv2d_c1_layer", "input_layers=inputlayer", "filters=8",
                             "kernel_size=3,3", "stride=1,1", "padding=same", "activation=relu",
                             "weight_initializer=xavier_uniform", "bias_initializer=zeros"}));
  built.addLayer(createLayer("pooling2d", {"name=pooling2d_p1", "input_layers=conv2d_c1_layer",
                                           "pooling=max", "pool_size=2,2", "stride=2,2"}));
  built.addLayer(createLayer("conv2d", {"name=conv2d_c2_layer", "filters=16", "kernel_size=3,3",
                                        "padding=1,1", "activation=relu"}));
  built.addLayer(createLayer("pooling2d",
                             {"name=pooling2d_p2", "pooling=max", "pool_size=2,2", "stride=2,2"}));
  built.addLayer(createLayer("flatten", {"name=flatten"}));
  // Loss = cross with a final softmax: the softmax moves into the cross_entropy loss.
  built.addLayer(createLayer("fully_connected", {"name=outputlayer", "unit=10"}));
  built.setOptimizer(
      createOptimizer("adam", {"learning_rate=1e-2", "beta1=0.9", "beta2=0.999", "epsilon=1e-7"}));

  expect_same_model(*file.model, built);
  EXPECT_EQ(file.trainer.save_path,
            (std::filesystem::path(file.path).parent_path() / "mnist_model.bin").string());
  EXPECT_FALSE(file.train_set.has_value());
}

TEST(ModelFile, FlattenAndActivationOnALayerWithoutOneAddLayers) {
  // NNTrainer applies Activation on any layer and Flatten = true adds a flatten after it;
  // consumers of [bn] read what comes out last. input_layers ignore case, as in NNTrainer.
  ModelFile file = load_model_file(write_file(R"(
[Model]
batch_size = 2
loss = mse
[in]
type = input
input_shape = 2:4:4
[conv]
type = conv2d
filters = 3
kernel_size = 3
padding = same
[bn]
type = batch_normalization
Activation = tanh
Flatten = true
[side]
type = fully_connected
unit = 5
input_layers = IN
Flatten = true
[out]
type = fully_connected
unit = 4
input_layers = BN
)"));
  Model built({"batch_size=2", "loss=mse"});
  built.addLayer(createLayer("input", {"name=in", "input_shape=2:4:4"}));
  built.addLayer(
      createLayer("conv2d", {"name=conv", "filters=3", "kernel_size=3", "padding=same"}));
  built.addLayer(createLayer("batch_normalization", {"name=bn"}));
  built.addLayer(createLayer("activation", {"name=bn/activation", "activation=tanh"}));
  built.addLayer(createLayer("flatten", {"name=bn/flatten"}));
  built.addLayer(createLayer("fully_connected", {"name=side", "unit=5", "input_layers=in"}));
  built.addLayer(createLayer("flatten", {"name=side/flatten"}));
  built.addLayer(createLayer("fully_connected", {"name=out", "unit=4", "input_layers=bn/flatten"}));
  // The unconsumed side branch is a second output; compare the forward pass only.
  expect_same_model(*file.model, built, /*train=*/false);
}

TEST(ModelFile, CrossWithAFinalSigmoidIsBceWithLogits) {
  ModelFile file = load_model_file(write_file(R"(
[Model]
Loss = cross
batch_size = 2
[Optimizer]
Type = sgd
learning_rate = 0.1
[in]
Type = input
Input_Shape = 1:1:6
[fc]
Type = fully_connected
Unit = 3
Activation = sigmoid
)"));
  Model built({"batch_size=2", "loss=bce_with_logits"});
  built.addLayer(createLayer("input", {"name=in", "input_shape=1:1:6"}));
  built.addLayer(createLayer("fully_connected", {"name=fc", "unit=3"}));
  built.setOptimizer(createOptimizer("sgd", {"learning_rate=0.1"}));
  expect_same_model(*file.model, built);
}

TEST(ModelFile, VaeWithReparametrizeAndVaeLossLayers) {
  // A loss with several inputs is a layer section; the label is its first input's target.
  ModelFile file = load_model_file(write_file(R"(
[Model]
batch_size = 3
[Optimizer]
Type = adam
learning_rate = 0.01
[image]
Type = input
Input_Shape = 1:1:6
[mu]
Type = fully_connected
Unit = 2
input_layers = image
[logvar]
Type = fully_connected
Unit = 2
input_layers = image
[z]
Type = reparametrize
input_layers = mu, logvar
[decoder]
Type = fully_connected
Unit = 6
Activation = sigmoid
[loss]
Type = vae_loss
input_layers = decoder, mu, logvar
)"));
  Model built({"batch_size=3"});
  built.addLayer(createLayer("input", {"name=image", "input_shape=1:1:6"}));
  built.addLayer(createLayer("fully_connected", {"name=mu", "unit=2", "input_layers=image"}));
  built.addLayer(createLayer("fully_connected", {"name=logvar", "unit=2", "input_layers=image"}));
  built.addLayer(createLayer("reparametrize", {"name=z", "input_layers=mu,logvar"}));
  built.addLayer(createLayer("fully_connected", {"name=decoder", "unit=6", "activation=sigmoid"}));
  built.addLayer(createLayer("vae_loss", {"name=loss", "input_layers=decoder,mu,logvar"}));
  built.setOptimizer(createOptimizer("adam", {"learning_rate=0.01"}));
  expect_same_model(*file.model, built);
}

TEST(ModelFile, CrossWithAFinalSoftmaxLayerLeavesItOut) {
  ModelFile file = load_model_file(write_file(R"(
[Model]
Loss = cross
batch_size = 2
[Optimizer]
Type = sgd
[in]
Type = input
Input_Shape = 1:1:6
[fc]
Type = fully_connected
Unit = 3
[softmax]
Type = activation
Activation = softmax
input_layers = fc
)"));
  Model built({"batch_size=2", "loss=cross_entropy"});
  built.addLayer(createLayer("input", {"name=in", "input_shape=1:1:6"}));
  built.addLayer(createLayer("fully_connected", {"name=fc", "unit=3"}));
  built.setOptimizer(createOptimizer("sgd"));
  expect_same_model(*file.model, built);
}

TEST(ModelFile, CrossWithoutAFinalActivationIsCrossEntropy) {
  ModelFile file = load_model_file(write_file(R"(
[Model]
Loss = cross
batch_size = 2
[Optimizer]
Type = sgd
[in]
Type = input
Input_Shape = 1:1:6
[fc]
Type = fully_connected
Unit = 3
)"));
  Model built({"batch_size=2", "loss=cross_entropy"});
  built.addLayer(createLayer("input", {"name=in", "input_shape=1:1:6"}));
  built.addLayer(createLayer("fully_connected", {"name=fc", "unit=3"}));
  built.setOptimizer(createOptimizer("sgd"));
  expect_same_model(*file.model, built);
}

TEST(ModelFile, CrossWithAnotherFinalActivationIsAnError) {
  expect_error(R"([Model]
Loss = cross
[in]
Type = input
Input_Shape = 1:1:6
[fc]
Type = fully_connected
Unit = 3
Activation = relu
)",
               "model.ini:9", "needs the last layer's activation to be softmax, sigmoid or none");
}

TEST(ModelFile, CrossCannotFoldAnActivationThatReadsAnEarlierLayer) {
  expect_error(R"([Model]
Loss = cross
[in]
Type = input
Input_Shape = 1:1:6
[fc]
Type = fully_connected
Unit = 3
[side]
Type = fully_connected
Unit = 2
input_layers = in
[softmax]
Type = activation
Activation = softmax
input_layers = fc
)",
               "model.ini:16", "which then reads the layer before it ('side'), not 'fc'");
}

TEST(ModelFile, CrossCannotFoldAnActivationBeforeAFlatten) {
  expect_error(R"([Model]
Loss = cross
[in]
Type = input
Input_Shape = 2:3:3
[conv]
Type = conv2d
Filters = 2
Kernel_Size = 1
Activation = softmax
Flatten = true
)",
               "model.ini:11", "so it must be the last operation");
}

TEST(ModelFile, NNTrainerOptimizerKeysInModelSection) {
  // NNTrainer's older files set the optimizer in [Model].
  ModelFile file = load_model_file(write_file(R"(
[Model]
Type = NeuralNetwork
Learning_rate = 0.5
Optimizer = sgd
Loss = mse
batch_size = 2
[in]
Type = input
Input_Shape = 1:1:4
[fc]
Type = fully_connected
Unit = 2
)"));
  Model built({"batch_size=2", "loss=mse"});
  built.addLayer(createLayer("input", {"name=in", "input_shape=1:1:4"}));
  built.addLayer(createLayer("fully_connected", {"name=fc", "unit=2"}));
  built.setOptimizer(createOptimizer("sgd", {"learning_rate=0.5"}));
  expect_same_model(*file.model, built);
}

TEST(ModelFile, LearningRateScheduler) {
  // As NNTrainer's MNIST application: the rate comes from the scheduler.
  ModelFile file = load_model_file(write_file(R"(
[Model]
Loss = mse
batch_size = 2
[Optimizer]
Type = adam
[LearningRateScheduler]
type=constant
Learning_rate = 0.25
[in]
Type = input
Input_Shape = 1:1:4
[fc]
Type = fully_connected
Unit = 2
)"));
  Model built({"batch_size=2", "loss=mse"});
  built.addLayer(createLayer("input", {"name=in", "input_shape=1:1:4"}));
  built.addLayer(createLayer("fully_connected", {"name=fc", "unit=2"}));
  built.setOptimizer(createOptimizer("adam"));
  built.setLearningRateScheduler(createLearningRateScheduler("constant", {"learning_rate=0.25"}));
  expect_same_model(*file.model, built);
}

TEST(ModelFile, EveryLearningRateSchedulerFollowsItsSchedule) {
  // Each [LearningRateScheduler] section, and the same scheduler from the C++ API.
  struct Case {
    std::string section;
    std::string type;
    std::vector<std::string> properties;
  };
  const std::vector<Case> cases = {
      {"Type = constant\nLearning_rate = 0.25", "constant", {"learning_rate=0.25"}},
      {"Type = exponential\nDecay_Rate = 0.5\nDecay_Steps = 2",
       "exponential",
       {"decay_rate=0.5", "decay_steps=2"}},
      {"Type = exponential\nlearning_rate = 0.2\ndecay_rate = 0.5\ndecay_steps = 2\n"
       "staircase = true",
       "exponential",
       {"learning_rate=0.2", "decay_rate=0.5", "decay_steps=2", "staircase=true"}},
      {"Type = step\nmilestones = 2, 5\ngamma = 0.5", "step", {"milestones=2,5", "gamma=0.5"}},
      // NNTrainer's form of the step scheduler.
      {"Type = step\nlearning_rate = 0.1, 0.01, 0.001\niteration = 2, 5",
       "step",
       {"learning_rate=0.1,0.01,0.001", "iteration=2,5"}},
      {"Type = cosine\nmax_learning_rate = 0.1\nmin_learning_rate = 0.01\ndecay_steps = 4",
       "cosine",
       {"max_learning_rate=0.1", "min_learning_rate=0.01", "decay_steps=4"}},
      {"Type = linear\nmin_learning_rate = 0.001\ndecay_steps = 5",
       "linear",
       {"min_learning_rate=0.001", "decay_steps=5"}},
      {"Type = warmup\nwarmup_steps = 3\nafter = cosine\nmax_learning_rate = 0.1\n"
       "decay_steps = 4",
       "warmup",
       {"warmup_steps=3", "after=cosine", "max_learning_rate=0.1", "decay_steps=4"}},
  };
  for (const Case& test : cases) {
    SCOPED_TRACE(test.section);
    ModelFile file = load_model_file(write_file(R"([Model]
Loss = mse
batch_size = 2
[Optimizer]
Type = sgd
Learning_rate = 0.05
[LearningRateScheduler]
)" + test.section + R"(
[in]
Type = input
Input_Shape = 1:1:4
[fc]
Type = fully_connected
Unit = 2
)"));
    Model& model = *file.model;
    model.compile();
    model.initialize();
    const std::unique_ptr<LearningRateScheduler> expected =
        createLearningRateScheduler(test.type, test.properties);
    for (size_t step = 0; step < 10; ++step) {
      ASSERT_EQ(model.iteration(), step);
      EXPECT_FLOAT_EQ(model.learningRate(), expected->learning_rate(step, 0.05f))
          << "iteration " << step;
      Tensor input = model.inputs().at(0);
      Tensor label = model.labels().at(0);
      const std::vector<float> x = pattern(input.size(), static_cast<float>(step));
      std::copy(x.begin(), x.end(), input.data());
      std::fill(label.data(), label.data() + label.size(), 0.5f);
      model.trainStep();
    }
  }
}

TEST(ModelFile, BadSchedulerPropertiesPointAtTheirKey) {
  const std::string layers = R"(
[in]
Type = input
Input_Shape = 1:1:4
)";
  expect_error(R"([LearningRateScheduler]
Type = warmup
warmup_steps = 10
after = onecycle
)" + layers,
               "model.ini:4",
               "learning rate scheduler 'warmup': property 'after' has bad value 'onecycle'");
  expect_error(R"([LearningRateScheduler]
Type = step
milestones = 30, 10
)" + layers,
               "model.ini:3", "property 'milestones' has bad value '30, 10'");
  expect_error(R"([LearningRateScheduler]
Type = warmup
warmup_steps = 10
after = cosine
decay_steps = 100
gamma = 0.5
)" + layers,
               "model.ini:6",
               "unknown key 'gamma' in [LearningRateScheduler] (Type = warmup takes: type, "
               "warmup_steps, after, max_learning_rate, min_learning_rate, decay_steps)");
  // Properties that constrain each other are checked together, at the section.
  expect_error(R"([LearningRateScheduler]
Type = cosine
min_learning_rate = 0.1
max_learning_rate = 0.01
decay_steps = 100
)" + layers,
               "model.ini:1",
               "learning rate scheduler 'cosine': property 'min_learning_rate' (0.1) must not "
               "exceed max_learning_rate (0.01)");
  expect_error(R"([LearningRateScheduler]
Type = exponential
decay_steps = 100
)" + layers,
               "model.ini:1",
               "learning rate scheduler 'exponential': property 'decay_rate' is required");
}

constexpr const char* kSmallModel = R"([Model]
Type = NeuralNetwork
Loss = mse
batch_size = 2
[Optimizer]
Type = sgd
[in]
Type = input
Input_Shape = 1:1:4
[fc]
Type = fully_connected
Unit = 2
)";

TEST(ModelFile, DataSetsResolveRelativePathsAgainstTheFile) {
  const std::string path = write_file(std::string(kSmallModel) + R"(
[train_set]
Type = idx
images = data/train-images-idx3-ubyte.gz
labels = data/train-labels-idx1-ubyte.gz
validation_split = 0.1
[test_set]
type = csv
path = ../shared/test.csv
)");
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  ModelFile file = load_model_file(path);
  ASSERT_TRUE(file.train_set.has_value());
  EXPECT_EQ(file.train_set->type, "idx");
  EXPECT_EQ(file.train_set->images, (folder / "data/train-images-idx3-ubyte.gz").string());
  EXPECT_EQ(file.train_set->labels, (folder / "data/train-labels-idx1-ubyte.gz").string());
  EXPECT_FLOAT_EQ(file.train_set->validation_split, 0.1f);
  EXPECT_EQ(file.train_set->origin, path + ":14");
  EXPECT_FALSE(file.valid_set.has_value());
  ASSERT_TRUE(file.test_set.has_value());
  EXPECT_EQ(file.test_set->type, "csv");
  EXPECT_EQ(file.test_set->path, (folder.parent_path() / "shared/test.csv").string());
  EXPECT_EQ(file.test_set->origin, path + ":19");
}

TEST(ModelFile, TargetInputMakesAnAutoencoderDataSet) {
  const std::string path = write_file(std::string(kSmallModel) + R"(
[train_set]
Type = idx
images = train-images.gz
target = Input
[valid_set]
Type = csv
path = valid.csv
target = label
[test_set]
Type = file
path = test.dat
target = input
)");
  ModelFile file = load_model_file(path);
  ASSERT_TRUE(file.train_set && file.valid_set && file.test_set);
  EXPECT_TRUE(file.train_set->target_is_input);
  EXPECT_TRUE(file.train_set->labels.empty());
  EXPECT_FALSE(file.valid_set->target_is_input);
  EXPECT_TRUE(file.test_set->target_is_input);
}

TEST(ModelFile, TargetInputErrors) {
  const std::string model = kSmallModel;  // 12 lines
  expect_error(model + "[train_set]\nType = idx\nimages = a.gz\nlabels = b.gz\ntarget = input\n",
               "model.ini:16",
               "Type = idx with target = input does not read 'labels' (it reads images)");
  expect_error(model + "[train_set]\nType = idx\ntarget = input\n", "model.ini:13",
               "[train_set] Type = idx needs 'images'");
  expect_error(model + "[test_set]\nType = csv\npath = a.csv\ntarget = output\n", "model.ini:16",
               "'target' has bad value 'output'");
}

TEST(ModelFile, NNTrainerFileDataSetsAndAbsolutePaths) {
  const std::string path = write_file(std::string(kSmallModel) + R"(
[train_set]
type = file
path = /tmp/nntrainer-data/train.dat
[valid_set]
type = file
path = valid.dat
)");
  ModelFile file = load_model_file(path);
  EXPECT_EQ(file.train_set->type, "file");
  EXPECT_EQ(file.train_set->path, "/tmp/nntrainer-data/train.dat");
  EXPECT_EQ(file.valid_set->path,
            (std::filesystem::path(path).parent_path() / "valid.dat").string());
}

TEST(ModelFile, NNTrainerOlderDataSetSection) {
  const std::string path = write_file(std::string(kSmallModel) + R"(
[DataSet]
BufferSize = 100
TrainData = "trainingSet.dat"
TestData = "testSet.dat"
)");
  ModelFile file = load_model_file(path);
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  ASSERT_TRUE(file.train_set.has_value());
  EXPECT_EQ(file.train_set->type, "file");
  EXPECT_EQ(file.train_set->path, (folder / "trainingSet.dat").string());
  EXPECT_EQ(file.train_set->origin, path + ":16");
  EXPECT_FALSE(file.valid_set.has_value());
  EXPECT_EQ(file.test_set->path, (folder / "testSet.dat").string());
}

TEST(ModelFile, DataSetErrors) {
  const std::string model = kSmallModel;  // 12 lines
  expect_error(model + "[train_set]\nType = idx\nimages = a.gz\n", "model.ini:13",
               "[train_set] Type = idx needs 'labels'");
  expect_error(model + "[train_set]\nType = csv\npath = a.csv\nimages = a.gz\n", "model.ini:16",
               "Type = csv does not read 'images' (it reads path)");
  expect_error(model + "[test_set]\nType = csv\npath = a.csv\nvalidation_split = 0.2\n",
               "model.ini:16", "unknown key 'validation_split' in [test_set]");
  expect_error(model + "[train_set]\nType = tfrecord\n", "model.ini:14", "one of: file, idx, csv");
  expect_error(model + "[train_set]\nType = file\npath = a.dat\nvalidation_split = 1.5\n",
               "model.ini:16", "'validation_split' has bad value '1.5'");
  expect_error(model + "[DataSet]\nLabelData = label.dat\n", "model.ini:14", "is not supported");
}

TEST(ModelFile, StreamAndCacheDirKeys) {
  const std::string path = write_file(std::string(kSmallModel) + R"(
[train_set]
Type = idx
images = train-images.gz
labels = train-labels.gz
stream = true
cache_dir = cache
[test_set]
Type = file
path = test.dat
Stream = yes
[valid_set]
Type = file
path = valid.dat
)");
  ModelFile file = load_model_file(path);
  const std::filesystem::path folder = std::filesystem::path(path).parent_path();
  ASSERT_TRUE(file.train_set && file.valid_set && file.test_set);
  EXPECT_TRUE(file.train_set->stream);
  EXPECT_EQ(file.train_set->cache_dir, (folder / "cache").string());
  EXPECT_TRUE(file.test_set->stream);
  EXPECT_FALSE(file.valid_set->stream);
  EXPECT_TRUE(file.valid_set->cache_dir.empty());
  // An override streams a section too.
  EXPECT_TRUE(load_model_file(path, {"valid_set.stream=true"}).valid_set->stream);
}

TEST(ModelFile, StreamErrorsNameTheKey) {
  const std::string model = kSmallModel;  // 12 lines
  expect_error(model + "[train_set]\nType = idx\nimages = a.gz\nlabels = b.gz\nstream = maybe\n",
               "model.ini:17", "property 'stream' has bad value 'maybe'");
  expect_error(model + "[test_set]\nType = csv\npath = a.csv\nstream = true\n", "model.ini:16",
               "Type = csv does not stream (Type = idx and Type = file do)");
  expect_error(model + "[test_set]\nType = file\npath = a.dat\ncache_dir = c\n", "model.ini:16",
               "Type = file does not read 'cache_dir'");
}

TEST(ModelFile, OverridesReplaceAndAddKeys) {
  const std::string path = write_file(std::string(kSmallModel) + R"(
[train_set]
type = file
path = train.dat
)");
  ModelFile file = load_model_file(
      path, {"batch_size=8", "fc.unit=3", "train_set.path=other.dat", "Model.save_path=out.bin",
             "test_set.type=csv", "test_set.path=test.csv"});
  file.model->compile();
  const std::string table = summary(*file.model);
  EXPECT_NE(table.find("Batch size: 8 "), std::string::npos) << table;
  EXPECT_NE(table.find("8:1:1:3"), std::string::npos) << table;  // fc's output
  // Paths from overrides stay relative to the working directory.
  EXPECT_EQ(file.train_set->path, "other.dat");
  EXPECT_EQ(file.trainer.save_path, "out.bin");
  ASSERT_TRUE(file.test_set.has_value());
  EXPECT_EQ(file.test_set->type, "csv");
  EXPECT_EQ(file.test_set->path, "test.csv");
  EXPECT_EQ(file.test_set->origin, "override 'test_set.type=csv'");
}

TEST(ModelFile, ReduceOnPlateauAndBestMonitor) {
  ModelFile file = load_model_file(write_file(std::string(kSmallModel) + R"(
[LearningRateScheduler]
Type = reduce_on_plateau
monitor = val_accuracy
factor = 0.5
patience = 3
)"),
                                   {"best_monitor=val_accuracy"});
  EXPECT_EQ(file.trainer.best_monitor, "val_accuracy");
  LearningRateScheduler* scheduler = file.model->learningRateScheduler();
  ASSERT_NE(scheduler, nullptr);
  EXPECT_EQ(scheduler->type(), "reduce_on_plateau");
  EXPECT_EQ(scheduler->monitor(), "val_accuracy");
  expect_error(kSmallModel, "override 'best_monitor=f1'", "'best_monitor' has bad value 'f1'",
               {"best_monitor=f1"});
}

TEST(ModelFile, BadOverridesAreClearErrors) {
  expect_error(kSmallModel, "override 'epochs'", "expected section.key=value, or key=value",
               {"epochs"});
  expect_error(kSmallModel, "override 'conv9.filters=3'", "has no section [conv9]",
               {"conv9.filters=3"});
  expect_error(kSmallModel, "override 'Model.batch_size=zero'",
               "property 'batch_size' has bad value 'zero'", {"Model.batch_size=zero"});
  expect_error(kSmallModel, "override 'Optimizer.momentun=0.9'", "unknown key 'momentun'",
               {"Optimizer.momentun=0.9"});
}

TEST(ModelFile, MissingFileNamesIt) {
  const std::string path = (test_folder() / "missing.ini").string();
  EXPECT_EQ(load_error(path), "cannot open '" + path + "': no such file");
}

TEST(ModelFile, MissingTypeIsAnError) {
  expect_error(R"([Model]
batch_size = 2
[in]
Type = input
Input_Shape = 1:1:4
[fc]
Unit = 2
)",
               "model.ini:6", "section [fc] has no Type");
}

TEST(ModelFile, UnknownModelKeyIsAnError) {
  expect_error(R"([Model]
Type = NeuralNetwork
Epochz = 3
[in]
Type = input
Input_Shape = 1:1:4
)",
               "model.ini:3", "unknown key 'epochz' in [Model] (known: type, loss, batch_size");
}

TEST(ModelFile, UnknownLayerKeyIsAnError) {
  expect_error(R"([Model]
batch_size = 2
[in]
Type = input
Input_Shape = 1:1:4
[fc]
Type = fully_connected
Unit = 2
Kernel_Size = 3
)",
               "model.ini:9", "unknown key 'kernel_size' in [fc] (fully_connected takes: type,");
  // NNTrainer keys without an equivalent say what to do instead.
  expect_error(R"([in]
Type = input
Input_Shape = 1:1:4
[fc]
Type = fully_connected
Unit = 2
weight_regularizer = l2norm
)",
               "model.ini:7", "weight_decay in [Optimizer]");
  expect_error(R"([in]
Type = input
Input_Shape = 1:1:4
name = other
)",
               "model.ini:4", "a layer is named by its section");
}

TEST(ModelFile, BadShapeIsAnError) {
  expect_error(R"([Model]
batch_size = 2

[in]
Type = input
Input_Shape = 1:28:x   # not a number
)",
               "model.ini:6", "bad shape '1:28:x'");
}

TEST(ModelFile, BadPropertyValuePointsAtItsKey) {
  expect_error(R"([in]
Type = input
Input_Shape = 1:8:8
[conv]
Type = conv2d
Filters = 4
Kernel_Size = 3,3
Stride = 0
)",
               "model.ini:8", "layer 'conv' (conv2d): property 'stride' has bad value '0'");
}

TEST(ModelFile, UnknownInputLayersTargetIsAnError) {
  expect_error(R"([in]
Type = input
Input_Shape = 1:1:4
[fc1]
Type = fully_connected
Unit = 2
[fc2]
Type = fully_connected
Unit = 2
input_layers = fc1, fc3
)",
               "model.ini:10",
               "input_layers names 'fc3', which is not a layer section of this file "
               "(layers: fc1, fc2, in)");
}

TEST(ModelFile, UnknownLayerTypeIsAnError) {
  expect_error(R"([in]
Type = input
Input_Shape = 1:1:4
[lstm]
Type = lstm
Unit = 2
)",
               "model.ini:5", "unknown layer type 'lstm' (known types: activation, addition");
}

TEST(ModelFile, BadOptimizerPropertyIsAnError) {
  expect_error(R"([Model]
Loss = mse
[Optimizer]
Type = adam
beta1 = 2    # must be in [0, 1)
[in]
Type = input
Input_Shape = 1:1:4
)",
               "model.ini:5", "optimizer 'adam': property 'beta1' has bad value '2'");
  expect_error(R"([Optimizer]
Type = adam
momentum = 0.9
[in]
Type = input
Input_Shape = 1:1:4
)",
               "model.ini:3", "unknown key 'momentum' in [Optimizer] (Type = adam takes: type,");
  expect_error(R"([Optimizer]
Type = lamb
[in]
Type = input
Input_Shape = 1:1:4
)",
               "model.ini:2", "unknown optimizer type 'lamb'");
  // Properties that constrain each other are checked together, at the section.
  expect_error(R"([Optimizer]
Type = sgd
nesterov = true
[in]
Type = input
Input_Shape = 1:1:4
)",
               "model.ini:1", "nesterov=true needs momentum > 0");
}

TEST(ModelFile, OptimizerSetTwiceIsAnError) {
  expect_error(R"([Model]
Optimizer = adam
[Optimizer]
Type = sgd
[in]
Type = input
Input_Shape = 1:1:4
)",
               "model.ini:2", "the optimizer is set twice");
}

TEST(ModelFile, FileWithoutLayersIsAnError) {
  const std::string path = write_file("[Model]\nbatch_size = 2\n");
  EXPECT_EQ(load_error(path).rfind(path + ": no layer sections", 0), 0u) << load_error(path);
}

}  // namespace
}  // namespace edgetrain
