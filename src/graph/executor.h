// Runs a CompiledGraph: owns the arena, binds every layer's RunContext to it once, and
// executes the forward steps (inference) or all steps (one training iteration).
// Nothing is allocated after construction.
#pragma once

#include <cstdint>
#include <memory>
#include <span>
#include <vector>

#include "edgetrain/layer.h"
#include "edgetrain/optimizer.h"
#include "graph/graph.h"
#include "graph/swapper.h"

namespace edgetrain {

class Executor {
 public:
  // `graph`, `optimizer` and `scheduler` must outlive the executor; the last two may
  // be null for inference only. Weights are initialized from `seed`.
  Executor(CompiledGraph& graph, const Optimizer* optimizer, const LearningRateScheduler* scheduler,
           uint64_t seed);

  // Batch size of the next steps, at most the compiled one.
  void set_batch(size_t batch);
  size_t batch() const { return batch_; }

  void forward(bool training);
  // Only the given forward steps (indices into graph.steps, each below forward_steps), in
  // the order given: a partial forward whose other inputs the caller has set.
  void forward(std::span<const size_t> steps, bool training);
  // Backward and optimizer update for the last forward, in that forward's mode. External gradients
  // (of outputs no loss consumes) must be set; set_external_gradients_zero() zeroes them.
  void backward();
  void set_external_gradients_zero();

  // A view of tensor `id`; batch-scaled tensors have the current batch.
  Tensor tensor(int id) const;
  // Sum of the loss layers' outputs after forward.
  float loss() const;

  size_t iteration() const { return iteration_; }  // optimizer updates done
  void set_iteration(size_t iteration) { iteration_ = iteration; }
  float learning_rate() const;
  Rng& rng() { return rng_; }
  size_t arena_bytes() const { return graph_.plan.arena_bytes; }
  // The swap file's transfers when the graph swaps (CompiledGraph::swap_gaps), else null.
  const Swapper* swapper() const { return swapper_.get(); }
  // With clip_grad_norm: the total gradient norm of the last step, before clipping.
  float last_gradient_norm() const { return last_gradient_norm_; }

  // Profiling: while on, training iterations (forward(true) + backward()) add the wall
  // time of each step to step_seconds()[step]; turning it on resets the sums. Evaluation
  // forwards are not counted.
  void set_profiling(bool on);
  const std::vector<double>& step_seconds() const { return step_seconds_; }
  double recompute_seconds() const { return recompute_seconds_; }  // forwards run again
  double swap_seconds() const { return swap_seconds_; }            // waiting on swap transfers
  size_t profiled_iterations() const { return profiled_iterations_; }

 private:
  // Unmaps the arena's anonymous mapping of `bytes`.
  struct ArenaDeleter {
    size_t bytes;
    void operator()(float* p) const;
  };

  void bind();
  void run_forward(size_t step, bool training);
  void run_node_forward(size_t node, bool training);
  void run_backward_step(size_t step, const OptimizerStep& update);
  Tensor view(const TensorRef& ref) const;
  void initialize_weights(uint64_t seed);
  // Scales every weight gradient by max_norm / (norm + 1e-6) when their total L2 norm is
  // above max_norm.
  void clip_gradients(float max_norm);
  // Runs `work`, adding its wall time to `*seconds` unless `seconds` is null.
  template <class Work>
  static void timed(double* seconds, Work&& work);

  CompiledGraph& graph_;
  const Optimizer* optimizer_;
  const LearningRateScheduler* scheduler_;
  std::unique_ptr<float[], ArenaDeleter> arena_;
  std::unique_ptr<Swapper> swapper_;
  // Per step: nodes whose forward runs again before it (CompiledGraph::recompute_gaps).
  std::vector<std::vector<size_t>> recompute_before_;
  bool backward_ready_ = false;  // the last forward was a full training forward
  std::vector<RunContext> contexts_;
  std::vector<std::vector<std::vector<Tensor>>> optimizer_state_;  // [node][weight][state]
  size_t batch_;
  size_t iteration_ = 0;
  float last_gradient_norm_ = 0.0f;
  bool profiling_ = false;
  std::vector<double> step_seconds_;
  double recompute_seconds_ = 0.0;
  double swap_seconds_ = 0.0;
  size_t profiled_iterations_ = 0;
  Rng rng_;
};

}  // namespace edgetrain
