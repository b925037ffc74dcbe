// Weights files and checkpoints: exact round trips, resuming, and that no damaged file
// loads and no failed or killed save loses the previous file.
#include <gtest/gtest.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>
#include <zlib.h>

#include <bit>
#include <chrono>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <iterator>
#include <string_view>

#include "edgetrain/checkpoint.h"
#include "edgetrain/error.h"
#include "edgetrain/rng.h"
#include "io/atomic_file.h"

namespace edgetrain {
namespace {

namespace fs = std::filesystem;

// A fresh directory per test, removed afterwards.
class TempDirectory : public ::testing::Test {
 protected:
  void SetUp() override {
    std::string pattern = ::testing::TempDir() + "edgetrain_checkpoint_XXXXXX";
    ASSERT_NE(::mkdtemp(pattern.data()), nullptr) << std::strerror(errno);
    directory_ = pattern;
  }
  void TearDown() override {
    std::error_code ignored;
    fs::permissions(directory_, fs::perms::owner_all, ignored);
    fs::remove_all(directory_, ignored);
  }
  std::string path(const std::string& name) const { return (directory_ / name).string(); }

  fs::path directory_;
};

using Checkpoint = TempDirectory;
using Weights = TempDirectory;
using AtomicFileTest = TempDirectory;

struct Architecture {
  size_t fc_units = 3;
  bool batch_normalization = true;
  bool extra_fc = false;
  std::string_view optimizer = "adam";  // "" for an inference-only model
  uint64_t seed = 7;
};

// input 1:4:4 -> conv -> batch norm -> dropout -> flatten -> fc [-> fc2] -> mse: weights,
// layer state (running statistics), optimizer state and the layer RNG (dropout) all
// matter.
std::unique_ptr<Model> make_model(const Architecture& architecture = {}) {
  auto model = std::make_unique<Model>(std::vector<std::string>{
      "batch_size=2", "loss=mse", "seed=" + std::to_string(architecture.seed)});
  model->addLayer(createLayer("input", {"name=in", "input_shape=1:4:4"}));
  model->addLayer(
      createLayer("conv2d", {"name=conv", "filters=2", "kernel_size=3,3", "padding=1,1"}));
  if (architecture.batch_normalization)
    model->addLayer(createLayer("batch_normalization", {"name=bn"}));
  model->addLayer(createLayer("dropout", {"name=drop", "dropout_rate=0.3"}));
  model->addLayer(createLayer("flatten", {"name=flat"}));
  model->addLayer(
      createLayer("fully_connected", {"name=fc", "unit=" + std::to_string(architecture.fc_units)}));
  if (architecture.extra_fc)
    model->addLayer(createLayer("fully_connected", {"name=fc2", "unit=3"}));
  if (!architecture.optimizer.empty())
    model->setOptimizer(
        createOptimizer(std::string(architecture.optimizer), {"learning_rate=0.01"}));
  model->compile();
  model->initialize();
  return model;
}

// Training steps [first, first + count), each on its own deterministic batch.
void train_steps(Model& model, size_t first, size_t count) {
  for (size_t step = first; step < first + count; ++step) {
    Rng data(1000 + step);
    for (Tensor& input : model.inputs())
      for (float& value : input) value = data.uniform(-1.0f, 1.0f);
    for (Tensor& label : model.labels())
      for (float& value : label) value = data.uniform(-1.0f, 1.0f);
    model.trainStep();
  }
}

// Everything a checkpoint restores, as bits (so -0.0f differs from 0.0f, NaN from NaN).
struct Snapshot {
  std::vector<std::string> names;
  std::vector<std::vector<uint32_t>> values;
  size_t iteration = 0;
  std::string layer_rng;

  bool operator==(const Snapshot&) const = default;
};

Snapshot snapshot(Model& model, bool with_optimizer = true) {
  Snapshot result;
  for (const auto& named : model.persistentTensors(with_optimizer)) {
    result.names.push_back(named.name);
    std::vector<uint32_t>& bits = result.values.emplace_back();
    for (float value : named.tensor) bits.push_back(std::bit_cast<uint32_t>(value));
  }
  result.iteration = model.iteration();
  result.layer_rng = model.layerRng().state();
  return result;
}

std::string read_bytes(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  return std::string(std::istreambuf_iterator<char>(in), {});
}

void write_bytes(const std::string& path, const std::string& bytes) {
  // Removed rather than truncated: ext4 flushes a truncated-and-rewritten file to disk on
  // close, which makes thousands of rewrites take half a minute.
  std::error_code ignored;
  fs::remove(path, ignored);
  std::ofstream out(path, std::ios::binary);
  out.write(bytes.data(), static_cast<std::streamsize>(bytes.size()));
  ASSERT_TRUE(out.good()) << path;
}

// Stores `crc` (the CRC-32 of everything before the trailer) as the file's checksum, so
// that a deliberately edited file fails on what was edited rather than the checksum.
void fix_checksum(std::string& bytes) {
  const size_t body = bytes.size() - 12;
  uint32_t crc =
      static_cast<uint32_t>(crc32_z(0, reinterpret_cast<const Bytef*>(bytes.data()), body));
  for (size_t i = 0; i < 4; ++i) bytes[body + i] = static_cast<char>(crc >> (8 * i));
}

// The message of the CheckpointError that `load` throws; fails the test if it throws
// nothing or something else.
template <typename Load>
std::string error_of(Load load) {
  try {
    load();
  } catch (const CheckpointError& error) {
    return error.what();
  } catch (const std::exception& error) {
    ADD_FAILURE() << "expected CheckpointError, got: " << error.what();
    return {};
  }
  ADD_FAILURE() << "expected CheckpointError, nothing was thrown";
  return {};
}

TEST_F(Checkpoint, RoundTripIsBitExact) {
  auto saved = make_model();
  train_steps(*saved, 0, 3);
  const CheckpointMetadata metadata{
      {{"epoch", "2"}, {"loader_rng", "12345 67"}, {"", "empty key"}}};
  save_checkpoint(*saved, metadata, path("run.ckpt"));

  auto loaded = make_model({.seed = 99});  // other initial weights and RNG
  ASSERT_NE(snapshot(*loaded), snapshot(*saved));
  EXPECT_EQ(load_checkpoint(*loaded, path("run.ckpt")), metadata);
  EXPECT_EQ(snapshot(*loaded), snapshot(*saved));
  EXPECT_EQ(loaded->iteration(), 3u);

  // The same state gives the same bytes: no timestamps or uninitialized padding.
  save_checkpoint(*loaded, metadata, path("again.ckpt"));
  EXPECT_EQ(read_bytes(path("again.ckpt")), read_bytes(path("run.ckpt")));
}

TEST_F(Checkpoint, ResumingMatchesUninterruptedTraining) {
  constexpr size_t kBefore = 3, kAfter = 4;
  auto uninterrupted = make_model();
  train_steps(*uninterrupted, 0, kBefore);
  save_checkpoint(*uninterrupted, {}, path("run.ckpt"));
  train_steps(*uninterrupted, kBefore, kAfter);

  auto resumed = make_model({.seed = 99});
  load_checkpoint(*resumed, path("run.ckpt"));
  train_steps(*resumed, kBefore, kAfter);
  EXPECT_EQ(snapshot(*resumed), snapshot(*uninterrupted));

  // The test would catch a checkpoint that forgot the dropout RNG: with another RNG
  // state the same steps give other weights.
  auto other_rng = make_model({.seed = 99});
  load_checkpoint(*other_rng, path("run.ckpt"));
  other_rng->layerRng().seed(5);
  train_steps(*other_rng, kBefore, kAfter);
  EXPECT_NE(snapshot(*other_rng, false).values, snapshot(*uninterrupted, false).values);
}

TEST_F(Checkpoint, EveryTruncationFailsNamingTheFile) {
  auto saved = make_model();
  train_steps(*saved, 0, 2);
  save_checkpoint(*saved, {{{"epoch", "1"}}}, path("run.ckpt"));
  const std::string bytes = read_bytes(path("run.ckpt"));
  ASSERT_LT(bytes.size(), 16384u) << "keep the model small: every prefix is loaded";

  auto model = make_model({.seed = 99});
  const Snapshot before = snapshot(*model);
  const std::string cut = path("cut.ckpt");
  for (size_t size = 0; size < bytes.size(); ++size) {
    write_bytes(cut, bytes.substr(0, size));
    const std::string message = error_of([&] { load_checkpoint(*model, cut); });
    EXPECT_NE(message.find(cut), std::string::npos) << "cut at " << size << ": " << message;
    error_of([&] { load_weights(*model, cut); });
  }
  EXPECT_EQ(snapshot(*model), before) << "a failed load changed the model";
}

TEST_F(Checkpoint, EveryFlippedByteFails) {
  auto saved = make_model();
  train_steps(*saved, 0, 2);
  save_checkpoint(*saved, {}, path("run.ckpt"));
  const std::string bytes = read_bytes(path("run.ckpt"));

  auto model = make_model({.seed = 99});
  const Snapshot before = snapshot(*model);
  const std::string flipped = path("flipped.ckpt");
  for (size_t position = 0; position < bytes.size(); ++position) {
    std::string damaged = bytes;
    damaged[position] = static_cast<char>(damaged[position] ^ 0x10);
    write_bytes(flipped, damaged);
    const std::string message = error_of([&] { load_checkpoint(*model, flipped); });
    EXPECT_NE(message.find(flipped), std::string::npos) << message;
    // The magic, version and end marker have messages of their own; every other byte,
    // the checksum's included, is covered by the checksum.
    const bool own_message = position < 12 || position >= bytes.size() - 8;
    if (!own_message) {
      EXPECT_NE(message.find("checksum mismatch"), std::string::npos)
          << "byte " << position << ": " << message;
    }
  }
  EXPECT_EQ(snapshot(*model), before) << "a failed load changed the model";
}

// Files with a valid checksum but nonsense inside, as a buggy writer could produce: every
// header byte (counts, lengths, names, dims, offsets, sizes) replaced by a few values.
// Each file either loads (a name still matched, say) or fails with a CheckpointError.
TEST_F(Checkpoint, EditedHeadersWithValidChecksumsNeverCrash) {
  auto saved = make_model();
  save_weights(*saved, path("model.bin"));
  const std::string bytes = read_bytes(path("model.bin"));
  // A weights file has no metadata: the first tensor's name length is at 24, its name at
  // 28, then dtype (4 bytes), dims (32) and the offset of its data, where the header ends.
  const size_t name_length = static_cast<unsigned char>(bytes[24]);
  size_t data_start = 0;
  std::memcpy(&data_start, bytes.data() + 28 + name_length + 4 + 32, sizeof data_start);
  ASSERT_LT(data_start, bytes.size());
  auto model = make_model();
  const std::string edited = path("edited.bin");
  size_t rejected = 0;
  for (size_t position = 12; position < data_start; ++position) {
    for (char value : {'\x00', '\x01', '\x7f', '\xff'}) {
      std::string damaged = bytes;
      if (damaged[position] == value) continue;
      damaged[position] = value;
      fix_checksum(damaged);
      write_bytes(edited, damaged);
      try {
        load_weights(*model, edited);
      } catch (const CheckpointError& error) {
        ++rejected;
        EXPECT_NE(std::string(error.what()).find(edited), std::string::npos) << error.what();
      }
    }
  }
  EXPECT_GT(rejected, 0u);
}

TEST_F(Checkpoint, WrongMagicAndMissingFile) {
  auto model = make_model();
  write_bytes(path("notes.txt"), "These are not the weights you are looking for.");
  std::string message = error_of([&] { load_weights(*model, path("notes.txt")); });
  EXPECT_NE(message.find(path("notes.txt")), std::string::npos) << message;
  EXPECT_NE(message.find("not an edgetrain weights or checkpoint file"), std::string::npos)
      << message;

  message = error_of([&] { load_checkpoint(*model, path("missing.ckpt")); });
  EXPECT_NE(message.find(path("missing.ckpt")), std::string::npos) << message;
  EXPECT_NE(message.find(std::strerror(ENOENT)), std::string::npos) << message;

  message = error_of([&] { load_checkpoint(*model, directory_.string()); });
  EXPECT_NE(message.find("not a regular file"), std::string::npos) << message;
}

TEST_F(Checkpoint, UnsupportedVersionNamesTheSupportedOne) {
  auto model = make_model();
  save_checkpoint(*model, {}, path("run.ckpt"));
  std::string bytes = read_bytes(path("run.ckpt"));
  bytes[8] = 2;  // version 2, little-endian
  write_bytes(path("v2.ckpt"), bytes);
  const std::string message = error_of([&] { load_checkpoint(*model, path("v2.ckpt")); });
  EXPECT_NE(message.find(path("v2.ckpt")), std::string::npos) << message;
  EXPECT_NE(message.find("format version 2 is not supported"), std::string::npos) << message;
  EXPECT_NE(message.find("reads version 1"), std::string::npos) << message;
}

TEST_F(Checkpoint, UnknownDtypeIsNamed) {
  auto model = make_model();
  save_weights(*model, path("model.bin"));
  std::string bytes = read_bytes(path("model.bin"));
  // A weights file has no metadata: count 0 at 16, tensor count at 20, then the first
  // tensor's name (length at 24) and its dtype.
  const size_t name_length = static_cast<unsigned char>(bytes[24]);
  ASSERT_EQ(bytes.substr(28, name_length), "conv:weight");
  bytes[28 + name_length] = 7;
  fix_checksum(bytes);
  write_bytes(path("dtype.bin"), bytes);
  const std::string message = error_of([&] { load_weights(*model, path("dtype.bin")); });
  EXPECT_NE(message.find("tensor 'conv:weight' has dtype 7"), std::string::npos) << message;
  EXPECT_NE(message.find("float32"), std::string::npos) << message;
}

TEST_F(Checkpoint, WeightsFileHoldsNoOptimizerState) {
  auto model = make_model();
  save_weights(*model, path("model.bin"));
  const std::string message = error_of([&] { load_checkpoint(*model, path("model.bin")); });
  EXPECT_NE(message.find(path("model.bin")), std::string::npos) << message;
  EXPECT_NE(message.find("without optimizer state"), std::string::npos) << message;
  EXPECT_NE(message.find("load_weights()"), std::string::npos) << message;
}

TEST_F(Checkpoint, OtherOptimizerDoesNotLoad) {
  auto adam = make_model();
  save_checkpoint(*adam, {}, path("adam.ckpt"));
  auto sgd = make_model({.optimizer = "sgd"});
  const std::string message = error_of([&] { load_checkpoint(*sgd, path("adam.ckpt")); });
  EXPECT_NE(message.find("the model lacks: conv:weight:exp_avg"), std::string::npos) << message;
  // Its weights still serve the other optimizer.
  load_weights(*sgd, path("adam.ckpt"));
  EXPECT_EQ(snapshot(*sgd, false).values, snapshot(*adam, false).values);
}

TEST_F(Checkpoint, ReservedMetadataKeyIsRejected) {
  auto model = make_model();
  const std::string message = error_of([&] {
    save_checkpoint(*model, {{{"iteration", "5"}}}, path("run.ckpt"));
  });
  EXPECT_NE(message.find("'iteration' is reserved"), std::string::npos) << message;
  EXPECT_FALSE(fs::exists(path("run.ckpt")));
}

TEST_F(Checkpoint, UninitializedModelIsAStateError) {
  Model model({"batch_size=2"});
  model.addLayer(createLayer("fully_connected", {"name=fc", "unit=3", "input_shape=1:1:4"}));
  model.compile();
  try {
    save_weights(model, path("model.bin"));
    FAIL() << "expected StateError";
  } catch (const StateError& error) {
    EXPECT_NE(std::string(error.what()).find("save_weights() needs an initialized model"),
              std::string::npos)
        << error.what();
  }
}

TEST_F(Checkpoint, UnwritableDirectoryNamesThePath) {
  auto model = make_model();
  const std::string nowhere = path("no_such_directory/run.ckpt");
  const std::string message = error_of([&] { save_checkpoint(*model, {}, nowhere); });
  EXPECT_NE(message.find(nowhere), std::string::npos) << message;
  EXPECT_NE(message.find(std::strerror(ENOENT)), std::string::npos) << message;
}

TEST_F(Checkpoint, ReadOnlyDirectoryNamesThePath) {
  if (::geteuid() == 0) GTEST_SKIP() << "root writes into read-only directories";
  auto model = make_model();
  const fs::path read_only = directory_ / "read_only";
  fs::create_directory(read_only);
  fs::permissions(read_only, fs::perms::owner_read | fs::perms::owner_exec);
  const std::string denied = (read_only / "run.ckpt").string();
  const std::string message = error_of([&] { save_weights(*model, denied); });
  EXPECT_NE(message.find(denied), std::string::npos) << message;
  EXPECT_NE(message.find(std::strerror(EACCES)), std::string::npos) << message;
}

// A save that fails midway (here: the file size limit is hit in a child process, as a
// full disk would) throws, removes its temporary file and keeps the previous checkpoint.
TEST_F(Checkpoint, FailedSaveKeepsThePreviousCheckpoint) {
  auto model = make_model();
  train_steps(*model, 0, 2);
  const std::string file = path("run.ckpt");
  save_checkpoint(*model, {{{"epoch", "1"}}}, file);
  const Snapshot old_state = snapshot(*model);
  const uintmax_t size = fs::file_size(file);
  train_steps(*model, 2, 1);

  const pid_t child = ::fork();
  ASSERT_GE(child, 0) << std::strerror(errno);
  if (child == 0) {
    // Exit codes: 0 as expected, 1 no error, 2 wrong message, 3 temporary file left.
    ::signal(SIGXFSZ, SIG_IGN);  // get EFBIG from write() instead of being killed
    const rlimit limit{static_cast<rlim_t>(size / 2), static_cast<rlim_t>(size / 2)};
    ::setrlimit(RLIMIT_FSIZE, &limit);
    int code = 1;
    try {
      save_checkpoint(*model, {{{"epoch", "2"}}}, file);
    } catch (const CheckpointError& error) {
      const std::string message = error.what();
      code = message.find(file) != std::string::npos &&
                     message.find(std::strerror(EFBIG)) != std::string::npos
                 ? 0
                 : 2;
      if (fs::exists(file + ".tmp." + std::to_string(::getpid()))) code = 3;
    }
    ::_exit(code);
  }
  int status = 0;
  ASSERT_EQ(::waitpid(child, &status, 0), child);
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0) << "0 expected, 1 no error, 2 wrong message, 3 temp left";

  auto loaded = make_model({.seed = 99});
  EXPECT_EQ(load_checkpoint(*loaded, file).values.at("epoch"), "1");
  EXPECT_EQ(snapshot(*loaded), old_state);
}

// A process killed with SIGKILL while saving leaves at the path either the previous
// checkpoint or the new one, complete. A child saves a large checkpoint in a loop; the
// parent watches its temporary file grow and kills it at a different point each round.
TEST_F(Checkpoint, KillDuringSaveLeavesACompleteCheckpoint) {
  // 1024 x 1024 weights with Adam: 12 MiB, long enough to be caught mid-write.
  auto make_large = [] {
    auto model = std::make_unique<Model>(std::vector<std::string>{"batch_size=1", "loss=mse"});
    model->addLayer(createLayer("input", {"name=in", "input_shape=1:1:1024"}));
    model->addLayer(createLayer("fully_connected", {"name=fc", "unit=1024"}));
    model->setOptimizer(createOptimizer("adam"));
    model->compile();
    model->initialize();
    return model;
  };
  auto model = make_large();
  const std::string file = path("large.ckpt");
  model->setIteration(1);
  save_checkpoint(*model, {}, file);
  const Snapshot old_state = snapshot(*model);
  const uintmax_t size = fs::file_size(file);
  model->weight("fc", "weight")[0] += 1.0f;
  model->setIteration(2);
  const Snapshot new_state = snapshot(*model);

  auto loaded = make_large();
  constexpr int kRounds = 5;
  int killed_mid_write = 0;
  for (int round = 0; round < kRounds; ++round) {
    const pid_t child = ::fork();
    ASSERT_GE(child, 0) << std::strerror(errno);
    if (child == 0) {
      try {
        for (;;) save_checkpoint(*model, {}, file);
      } catch (...) {
        ::_exit(1);
      }
    }
    // Kill once the temporary file has reached round/kRounds of the full size.
    const std::string temp = file + ".tmp." + std::to_string(child);
    const uintmax_t target = size * round / kRounds + 1;
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(20);
    std::error_code ignored;
    while (fs::file_size(temp, ignored) < target || ignored) {
      int status = 0;
      ASSERT_EQ(::waitpid(child, &status, WNOHANG), 0) << "the saving child died on its own";
      if (std::chrono::steady_clock::now() > deadline) break;
    }
    ::kill(child, SIGKILL);
    int status = 0;
    ASSERT_EQ(::waitpid(child, &status, 0), child);
    ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGKILL);
    const uintmax_t left = fs::file_size(temp, ignored);
    if (!ignored && left < size) ++killed_mid_write;
    fs::remove(temp, ignored);

    load_checkpoint(*loaded, file);
    const Snapshot state = snapshot(*loaded);
    EXPECT_TRUE(state == old_state || state == new_state)
        << "round " << round << ": iteration " << state.iteration;
  }
  // Not a correctness condition (the kill may land between writes), but the test shows
  // something only if some kills caught a partial file.
  std::cout << "[          ] killed mid-write in " << killed_mid_write << " of " << kRounds
            << " rounds\n";
  EXPECT_GT(killed_mid_write, 0);
}

TEST_F(Weights, FreshModelPredictsTheSame) {
  auto trained = make_model();
  train_steps(*trained, 0, 3);  // moves the running statistics off their initial values
  save_weights(*trained, path("model.bin"));
  save_checkpoint(*trained, {}, path("run.ckpt"));

  std::vector<float> input(3 * 16);
  Rng data(3);
  for (float& value : input) value = data.uniform(-1.0f, 1.0f);
  const std::vector<float> expected = trained->predict(input, 3);
  for (const std::string file : {"model.bin", "run.ckpt"}) {
    auto inference = make_model({.optimizer = "", .seed = 99});
    ASSERT_NE(inference->predict(input, 3), expected);
    load_weights(*inference, path(file));
    EXPECT_EQ(inference->predict(input, 3), expected) << file;
    EXPECT_EQ(inference->iteration(), 0u) << "load_weights leaves the iteration alone";
  }
}

TEST_F(Weights, OtherArchitectureNamesTheTensors) {
  auto saved = make_model();
  save_weights(*saved, path("model.bin"));
  struct Case {
    Architecture architecture;
    std::string expected;
  };
  const std::vector<Case> cases = {
      {{.fc_units = 4},
       "shapes differ: fc:weight (file 1:1:3:32, model 1:1:4:32), "
       "fc:bias (file 1:1:1:3, model 1:1:1:4)"},
      {{.extra_fc = true}, "the file lacks: fc2:weight, fc2:bias"},
      {{.batch_normalization = false},
       "the model lacks: bn:gamma, bn:beta, bn:running_mean, bn:running_var"},
  };
  for (const Case& test : cases) {
    auto model = make_model(test.architecture);
    const Snapshot before = snapshot(*model);
    const std::string message = error_of([&] { load_weights(*model, path("model.bin")); });
    EXPECT_NE(message.find(path("model.bin")), std::string::npos) << message;
    EXPECT_NE(message.find(test.expected), std::string::npos) << message;
    EXPECT_EQ(snapshot(*model), before) << "a failed load changed the model";
  }
}

TEST_F(AtomicFileTest, ReplacesTheFileAndLeavesNoTemporary) {
  const std::string file = path("data");
  write_bytes(file, "old contents");
  {
    AtomicFile atomic(file);
    const std::string text = "new contents";
    atomic.write(std::as_bytes(std::span(text)));
    atomic.commit();
  }
  EXPECT_EQ(read_bytes(file), "new contents");
  EXPECT_EQ(std::distance(fs::directory_iterator(directory_), fs::directory_iterator()), 1);
}

TEST_F(AtomicFileTest, UncommittedWriteKeepsThePreviousFile) {
  const std::string file = path("data");
  write_bytes(file, "old contents");
  {
    AtomicFile atomic(file);
    const std::string text = "half of the new";
    atomic.write(std::as_bytes(std::span(text)));
    EXPECT_EQ(read_bytes(file), "old contents");
  }  // destroyed without commit(), as when an exception unwinds a save
  EXPECT_EQ(read_bytes(file), "old contents");
  EXPECT_EQ(std::distance(fs::directory_iterator(directory_), fs::directory_iterator()), 1);
}

TEST_F(AtomicFileTest, FailedRenameKeepsTheTargetAndRemovesTheTemporary) {
  // A non-empty directory at the path cannot be replaced by a file.
  const fs::path target = directory_ / "occupied";
  fs::create_directory(target);
  write_bytes((target / "inside").string(), "x");
  AtomicFile atomic(target.string());
  atomic.write(std::as_bytes(std::span(std::string_view("data"))));
  try {
    atomic.commit();
    FAIL() << "expected Error";
  } catch (const Error& error) {
    EXPECT_NE(std::string(error.what()).find("cannot rename"), std::string::npos) << error.what();
    EXPECT_NE(std::string(error.what()).find(target.string()), std::string::npos) << error.what();
  }
  EXPECT_EQ(read_bytes((target / "inside").string()), "x");
  EXPECT_EQ(std::distance(fs::directory_iterator(directory_), fs::directory_iterator()), 1);
}

}  // namespace
}  // namespace edgetrain
