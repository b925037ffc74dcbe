// The model API, in the shape NNTrainer users know:
//
//   edgetrain::Model model({"batch_size=32", "loss=cross_entropy"});
//   model.addLayer(edgetrain::createLayer("input", {"input_shape=1:28:28"}));
//   model.addLayer(edgetrain::createLayer("conv2d", {"filters=8", "kernel_size=3,3"}));
//   ...
//   model.setOptimizer(edgetrain::createOptimizer("adam", {"learning_rate=0.001"}));
//   model.compile();      // graph, shapes, memory plan
//   model.initialize();   // arena and weights
//   model.train(dataset);
#pragma once

#include <cstdint>
#include <iosfwd>
#include <memory>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "edgetrain/dataset.h"
#include "edgetrain/layer.h"
#include "edgetrain/optimizer.h"

namespace edgetrain {

class ClassificationMetrics;

// A layer plus the properties the graph reads: name, input_layers, trainable, and
// input_shape on a first layer that is not an input layer.
class LayerNode {
 public:
  explicit LayerNode(std::unique_ptr<Layer> layer);
  // "key=value" strings; keys are case-insensitive. Throws PropertyError naming the
  // layer and key.
  void setProperty(const std::vector<std::string>& properties);
  const std::string& getName() const { return name_; }
  std::string getType() const { return layer_->type(); }
  Layer& layer() { return *layer_; }
  const std::vector<std::string>& inputLayers() const { return input_layers_; }
  const std::optional<TensorShape>& inputShape() const { return input_shape_; }
  bool trainable() const { return trainable_; }

 private:
  std::string owner() const;

  std::unique_ptr<Layer> layer_;
  std::string name_;
  std::vector<std::string> input_layers_;
  std::optional<TensorShape> input_shape_;
  bool trainable_ = true;
};

// Throws UnknownTypeError (listing the known types) or PropertyError.
std::unique_ptr<LayerNode> createLayer(const std::string& type,
                                       const std::vector<std::string>& properties = {});

struct EpochResult {
  size_t epoch = 0;         // 1-based
  float training_loss = 0;  // mean over the epoch's batches
  float seconds = 0;
};

struct EvaluationResult {
  float loss = 0;             // mean over samples
  float accuracy = 0;         // fraction of rows (over the width) whose arg-max matches the label's
  bool has_accuracy = false;  // false (accuracy 0) when the model has no classification loss
  size_t samples = 0;
};

// Planned memory, from the compiled graph.
struct MemoryReport {
  size_t planned_bytes = 0;      // the arena
  size_t lower_bound_bytes = 0;  // most bytes alive at one step
  size_t naive_bytes = 0;        // every tensor on its own
  size_t budget_bytes = 0;       // memory_budget; 0: none
  // With swap (the arena was above the budget): the arena without swapping, how many
  // tensors leave memory between uses, and the bytes written (and read back) per step.
  size_t unswapped_bytes = 0;
  size_t swapped_tensors = 0;
  size_t swap_bytes_per_step = 0;
  // Without swap (the arena was above the budget): outputs recomputed before backward.
  size_t recomputed_tensors = 0;
};

// One layer's tensors by kind, in bytes: sums of tensor sizes, each rounded up to the
// arena's 64-byte alignment. Over all layers they add up to MemoryReport::naive_bytes, not
// to the arena, which shares memory between tensors that are not alive together.
struct LayerMemory {
  std::string layer;
  std::string type;
  size_t weights = 0;          // parameters and persistent layer state (batch norm's running stats)
  size_t optimizer_state = 0;  // e.g. Adam's moments of its weights
  size_t activations = 0;      // its outputs (an input layer's data, a loss's labels)
  size_t gradients = 0;        // the activation gradients it writes, and its weight gradients
  size_t scratch = 0;          // tensors it requested: scratch, and saved for backward
  size_t total() const { return weights + optimizer_state + activations + gradients + scratch; }
};

// Memory at one step of a training iteration (Model::memoryProfile).
struct MemoryProfileStep {
  size_t step = 0;
  std::string phase;      // forward, calc_gradient, calc_derivative, apply_gradient, clip_gradients
  std::string layer;      // empty for clip_gradients, which acts on every layer
  size_t live_bytes = 0;  // aligned sizes of the tensors alive at this step
  size_t high_water_bytes = 0;  // highest arena byte (offset + aligned size) they use
};

// Wall time of one layer's phases in the training steps profiled (Model::setProfiling).
struct LayerTime {
  std::string layer;
  std::string type;
  double forward = 0.0;  // seconds, summed over the steps
  double calc_derivative = 0.0;
  double calc_gradient = 0.0;
  double optimizer = 0.0;  // applying its weight updates
  double total() const { return forward + calc_derivative + calc_gradient + optimizer; }
};

struct TrainingProfile {
  size_t iterations = 0;          // training steps profiled
  std::vector<LayerTime> layers;  // graph order
  double clip_gradients = 0.0;    // clip_grad_norm over all gradients
  double recompute = 0.0;         // forwards run again before backward (memory budget)
  double swap_wait = 0.0;         // waiting for swap-file transfers (memory_swap)
  double total() const;
};

class Model {
 public:
  Model();
  explicit Model(const std::vector<std::string>& properties);
  ~Model();
  Model(const Model&) = delete;
  Model& operator=(const Model&) = delete;

  // batch_size, epochs, loss (mse, cross_entropy, bce_with_logits: appended after the
  // last layer), seed, memory_planner (best_fit, the default; first_fit; naive: no reuse),
  // in_place (true: elementwise layers run in their input's memory where nothing else
  // reads it; CompileOptions::in_place), memory_budget (the most bytes the arena may take,
  // e.g. 4MiB; 0: no limit), memory_swap (true: above the budget, tensors wait in a swap
  // file between their uses; the same results, bit for bit), memory_swap_path (the swap
  // file's folder; default $TMPDIR or /tmp), memory_swap_lookahead (steps a read back
  // starts before its use; default 2).
  void setProperty(const std::vector<std::string>& properties);
  void addLayer(std::unique_ptr<LayerNode> layer);
  void setOptimizer(std::unique_ptr<Optimizer> optimizer);
  void setLearningRateScheduler(std::unique_ptr<LearningRateScheduler> scheduler);
  // Null when none was set. The trainer steps a scheduler that follows a metric.
  const Optimizer* optimizer() const { return optimizer_.get(); }
  LearningRateScheduler* learningRateScheduler() { return scheduler_.get(); }

  // Builds the graph: order, shapes, tensor lifetimes and the memory plan.
  void compile();
  // Allocates the arena and initializes weights from the seed. Also applies edgetrain's
  // thread policy: OpenBLAS on one thread, OpenMP (OMP_NUM_THREADS) for the rest
  // (docs/architecture.md, "Threads").
  void initialize();

  // Trains for `epochs` epochs, reshuffling every epoch; a partial last batch is kept.
  // Throws NumericError when the loss becomes NaN or infinite.
  std::vector<EpochResult> train(Dataset& data);
  // With `metrics`, also adds every batch's prediction and label to it (a model with
  // accuracy only, hasAccuracy(); else StateError).
  EvaluationResult evaluate(Dataset& data, ClassificationMetrics* metrics = nullptr);
  // Runs inference on `count` samples laid out back to back in `input` (single-input
  // models); returns the first output, count * output-size floats.
  std::vector<float> predict(std::span<const float> input, size_t count = 1);
  // Runs the model from a layer's output onward, e.g. a VAE's decoder from chosen z:
  // sets output 0 of layer `from` to `values` (`count` samples of that output, back to
  // back) and runs, in evaluation mode and batch by batch, only the layers computed from
  // it alone: those downstream of `from` whose every input comes from `from` or another
  // such layer. Losses and layers with any other input are skipped, and no other tensor
  // is read, so the rest of the model's state does not matter. Returns output 0 of layer
  // `to` (empty: the model's first output, the prediction fed to the first loss), count
  // times its per-sample size. Equal to predict() when `from`'s output is what a full
  // forward gives it. Throws Error when `from` or `to` is unknown, `from` is a loss or
  // `to` is not computed from `from` alone; ShapeError when `values` is not `count`
  // samples; StateError when the memory plan reuses `to`'s output before the pass ends.
  std::vector<float> forwardFrom(const std::string& from, std::span<const float> values,
                                 size_t count, const std::string& to = "");

  // The layer table: name, type, output shape, inputs, parameters, planned memory.
  void summary(std::ostream& out) const;
  MemoryReport memory() const;
  // Per layer, in graph order (layers the compiler inserts included). Needs compile().
  std::vector<LayerMemory> memoryBreakdown() const;
  // One row per step of a training iteration: the largest live_bytes is
  // memory().lower_bound_bytes, the largest high_water_bytes memory().planned_bytes.
  // Needs compile().
  std::vector<MemoryProfileStep> memoryProfile() const;

  // While on, training steps time every layer's phases; turning it on resets the sums.
  // Evaluation forwards are not counted. Needs initialize().
  void setProfiling(bool on);
  TrainingProfile profile() const;

  // Lower-level access for custom loops and tests. Views stay valid until the next
  // compile(); they have the compiled batch size.
  size_t batchSize() const { return batch_size_; }
  size_t epochs() const { return epochs_; }
  uint64_t seed() const { return seed_; }
  // The loss property ("mse", "cross_entropy", ...); empty when losses are added as layers.
  const std::string& loss() const { return loss_; }
  // Whether accuracy means something: the first loss's label marks classes
  // (Layer::label_is_class; false for vae_loss and for a model without a loss). Needs
  // compile().
  bool hasAccuracy() const;
  std::vector<Tensor> inputs();
  std::vector<Tensor> labels();
  std::vector<Tensor> outputs();
  // One training step on what inputs() and labels() hold, for the first `batch`
  // samples (0: the whole batch). Returns the loss.
  float trainStep(size_t batch = 0);
  // Forward only (evaluation mode unless `training`).
  void forward(size_t batch = 0, bool training = false);
  // Weight `name` ("weight", "bias", ...) of layer `layer`.
  Tensor weight(const std::string& layer, const std::string& name);
  // Names of the compiled graph's layers in graph order (layers the compiler inserts
  // included); only those of type `type` when it is given.
  std::vector<std::string> layerNames(const std::string& type = "") const;
  // Shape of output 0 of layer `layer` for one sample. Throws Error for an unknown layer.
  TensorShape outputShape(const std::string& layer) const;
  // "layer:name" of every weight, in graph order.
  std::vector<std::string> weightNames() const;

  // State that persists across steps, for checkpoints. Weights and layer state
  // ("layer:name", e.g. "conv1:weight", "bn:running_mean") in graph order, then, with
  // `with_optimizer`, optimizer state ("layer:name:state", e.g. "fc:weight:exp_avg").
  struct NamedTensor {
    std::string name;
    Tensor tensor;
  };
  std::vector<NamedTensor> persistentTensors(bool with_optimizer);
  // Optimizer updates done so far (Adam's bias correction and schedulers read it).
  size_t iteration() const;
  void setIteration(size_t iteration);
  // The learning rate the next update will use.
  float learningRate() const;
  // The random stream layers draw from (dropout), for checkpoints.
  Rng& layerRng();

 private:
  struct Compiled;
  void require_initialized(const char* what) const;

  std::vector<std::unique_ptr<LayerNode>> layers_;
  std::unique_ptr<Optimizer> optimizer_;
  std::unique_ptr<LearningRateScheduler> scheduler_;
  size_t batch_size_ = 1;
  size_t epochs_ = 1;
  std::string loss_;
  uint64_t seed_ = 0;
  bool in_place_ = true;      // CompileOptions::in_place
  size_t memory_budget_ = 0;  // CompileOptions::memory_budget and what follows it
  bool memory_swap_ = false;
  std::string memory_swap_path_;
  size_t memory_swap_lookahead_ = 2;
  std::string memory_planner_ = "best_fit";
  std::unique_ptr<LayerNode> loss_layer_;
  std::unique_ptr<Compiled> compiled_;
};

}  // namespace edgetrain
