#include "graph/executor.h"

#include <sys/mman.h>

#include <algorithm>
#include <chrono>
#include <cmath>

#include "edgetrain/error.h"

namespace edgetrain {

void Executor::ArenaDeleter::operator()(float* p) const { ::munmap(p, bytes); }

Executor::Executor(CompiledGraph& graph, const Optimizer* optimizer,
                   const LearningRateScheduler* scheduler, uint64_t seed)
    : graph_(graph),
      optimizer_(optimizer),
      scheduler_(scheduler),
      batch_(graph.batch),
      rng_(seed ^ 0x9e3779b97f4a7c15ULL) {
  // An anonymous mapping is zero-filled (the arena starts zeroed) and page-aligned, and a
  // page becomes resident only when first touched: the weights once initialized, the
  // activations and gradients at the first step, never the bytes the plan leaves unused.
  // Zeroing an allocation instead would make the whole arena resident at construction.
  const size_t bytes = align_up(std::max<size_t>(graph.plan.arena_bytes, kArenaAlignment));
  void* arena = ::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (arena == MAP_FAILED)
    throw Error("cannot allocate the " + std::to_string(bytes) + "-byte training arena");
  arena_ = std::unique_ptr<float[], ArenaDeleter>(static_cast<float*>(arena), ArenaDeleter{bytes});
  contexts_.resize(graph.nodes.size());
  optimizer_state_.resize(graph.nodes.size());
  bind();
  initialize_weights(seed);
  if (!graph.swap_gaps.empty()) swapper_ = std::make_unique<Swapper>(graph, arena_.get());
  recompute_before_.resize(graph.steps.size());
  for (const SwapGap& gap : graph.recompute_gaps)
    recompute_before_[gap.in_before].push_back(gap.node);
}

Tensor Executor::view(const TensorRef& ref) const {
  if (!ref.valid()) return Tensor();
  const GraphTensor& tensor = graph_.tensors[ref.id];
  float* data = arena_.get() + tensor.offset / sizeof(float);
  return Tensor(data, tensor.batch_scaled ? ref.shape.with_batch(batch_) : ref.shape);
}

Tensor Executor::tensor(int id) const {
  ET_ASSERT(id >= 0 && static_cast<size_t>(id) < graph_.tensors.size(), "bad tensor id");
  return view({id, graph_.tensors[id].shape});
}

void Executor::bind() {
  for (size_t n = 0; n < graph_.nodes.size(); ++n) {
    const GraphNode& node = graph_.nodes[n];
    RunContext& context = contexts_[n];
    auto views = [&](const std::vector<TensorRef>& refs, std::vector<Tensor>& out) {
      out.resize(refs.size());
      for (size_t i = 0; i < refs.size(); ++i) out[i] = view(refs[i]);
    };
    views(node.inputs, context.inputs_);
    views(node.outputs, context.outputs_);
    views(node.output_grads, context.output_grads_);
    views(node.input_grads, context.input_grads_);
    views(node.tensors, context.tensors_);
    context.weights_.resize(node.weights.size());
    context.weight_grads_.resize(node.weights.size());
    optimizer_state_[n].resize(node.weights.size());
    for (size_t w = 0; w < node.weights.size(); ++w) {
      context.weights_[w] = tensor(node.weights[w]);
      context.weight_grads_[w] =
          node.weight_grads[w] >= 0 ? tensor(node.weight_grads[w]) : Tensor();
      auto& state = optimizer_state_[n][w];
      state.resize(node.optimizer_state[w].size());
      for (size_t s = 0; s < state.size(); ++s) state[s] = tensor(node.optimizer_state[w][s]);
    }
    context.label_ = view(node.label);
    context.batch_ = batch_;
    context.rng_ = &rng_;
  }
}

void Executor::initialize_weights(uint64_t seed) {
  Rng init_rng(seed);
  for (size_t n = 0; n < graph_.nodes.size(); ++n) {
    const GraphNode& node = graph_.nodes[n];
    for (size_t w = 0; w < node.weights.size(); ++w) {
      const WeightSpec& spec = node.weight_specs[w];
      initialize(contexts_[n].weights_[w], spec.initializer, spec.fan_in, spec.fan_out, init_rng);
    }
  }
}

void Executor::set_batch(size_t batch) {
  if (batch == 0 || batch > graph_.batch)
    throw StateError("batch of " + std::to_string(batch) +
                     " samples; the model is compiled for at most " + std::to_string(graph_.batch));
  if (batch == batch_) return;
  batch_ = batch;
  bind();
}

void Executor::run_forward(size_t step, bool training) {
  run_node_forward(graph_.steps[step].node, training);
}

void Executor::run_node_forward(size_t node, bool training) {
  RunContext& context = contexts_[node];
  context.training_ = training;
  graph_.nodes[node].layer->forward(context);
}

template <class Work>
void Executor::timed(double* seconds, Work&& work) {
  if (!seconds) {
    work();
    return;
  }
  const auto start = std::chrono::steady_clock::now();
  work();
  *seconds += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
}

void Executor::set_profiling(bool on) {
  profiling_ = on;
  if (!on) return;
  step_seconds_.assign(graph_.steps.size(), 0.0);
  recompute_seconds_ = swap_seconds_ = 0.0;
  profiled_iterations_ = 0;
}

void Executor::forward(bool training) {
  const bool timing = profiling_ && training;
  double* swap_time = timing ? &swap_seconds_ : nullptr;
  backward_ready_ = false;
  if (swapper_) timed(swap_time, [&] { swapper_->drain(); });
  for (size_t s = 0; s < graph_.forward_steps; ++s) {
    if (swapper_) timed(swap_time, [&] { swapper_->before_step(s, training); });
    timed(timing ? &step_seconds_[s] : nullptr, [&] { run_forward(s, training); });
    if (swapper_) timed(swap_time, [&] { swapper_->after_step(s, training); });
  }
  if (swapper_ && !training) swapper_->drain();
  backward_ready_ = training;
}

void Executor::forward(std::span<const size_t> steps, bool training) {
  for (size_t s : steps)
    ET_ASSERT(s < graph_.forward_steps, "partial forward with a step that is not a forward step");
  backward_ready_ = false;
  if (!swapper_) {
    for (size_t s : steps) run_forward(s, training);
    return;
  }
  // Swapped tensors move at fixed steps: walk every step up to the last one asked for,
  // running only those asked for (tensors of the others hold nothing useful anyway).
  if (!std::is_sorted(steps.begin(), steps.end()))
    throw StateError("a partial forward with memory swap runs its steps in graph order");
  swapper_->drain();
  const size_t end = steps.empty() ? 0 : steps.back() + 1;
  auto next = steps.begin();
  for (size_t s = 0; s < end; ++s) {
    swapper_->before_step(s, false);
    if (next != steps.end() && *next == s) {
      run_forward(s, training);
      while (next != steps.end() && *next == s) ++next;
    }
    swapper_->after_step(s, false);
  }
  swapper_->drain();
}

float Executor::learning_rate() const {
  ET_ASSERT(optimizer_ != nullptr, "learning_rate() without an optimizer");
  const float base = optimizer_->base_learning_rate();
  return scheduler_ ? scheduler_->learning_rate(iteration_, base) : base;
}

void Executor::backward() {
  if (!optimizer_)
    throw StateError("training needs an optimizer: call setOptimizer before compile");
  if (swapper_ && !backward_ready_)
    throw StateError(
        "with memory swap, backward() needs a training forward(true) over the whole graph first");
  OptimizerStep update{learning_rate(), iteration_ + 1};
  const bool timing = profiling_;
  double* swap_time = timing ? &swap_seconds_ : nullptr;
  for (size_t s = graph_.forward_steps; s < graph_.steps.size(); ++s) {
    if (swapper_) timed(swap_time, [&] { swapper_->before_step(s, true); });
    if (!recompute_before_[s].empty())
      timed(timing ? &recompute_seconds_ : nullptr, [&] {
        for (size_t node : recompute_before_[s]) run_node_forward(node, true);
      });
    timed(timing ? &step_seconds_[s] : nullptr, [&] { run_backward_step(s, update); });
    if (swapper_) timed(swap_time, [&] { swapper_->after_step(s, true); });
  }
  if (swapper_) timed(swap_time, [&] { swapper_->drain(); });
  backward_ready_ = false;
  ++iteration_;
  if (timing) ++profiled_iterations_;
}

void Executor::run_backward_step(size_t s, const OptimizerStep& update) {
  const Step& step = graph_.steps[s];
  const GraphNode& node = graph_.nodes[step.node];
  RunContext& context = contexts_[step.node];
  switch (step.phase) {
    case Phase::forward:
      ET_ASSERT(false, "forward step in the backward pass");
      break;
    case Phase::calc_gradient:
      context.fused_update_ = node.fused_update;
      context.update_scale_ = -update.learning_rate;
      node.layer->calc_gradient(context);
      break;
    case Phase::calc_derivative:
      node.layer->calc_derivative(context);
      break;
    case Phase::apply_gradient:
      for (size_t w = 0; w < node.weights.size(); ++w)
        if (node.weight_grads[w] >= 0)
          optimizer_->apply(context.weights_[w], context.weight_grads_[w],
                            optimizer_state_[step.node][w], update);
      break;
    case Phase::clip_gradients:
      clip_gradients(optimizer_->clip_grad_norm());
      break;
  }
}

void Executor::clip_gradients(float max_norm) {
  // As torch.nn.utils.clip_grad_norm_: the L2 norm of all gradients together, summed in
  // double precision in one fixed order (graph order), so it does not depend on threads.
  double sum = 0.0;
  for (size_t n = 0; n < graph_.nodes.size(); ++n)
    for (const Tensor& grad : contexts_[n].weight_grads_)
      for (float value : grad) sum += static_cast<double>(value) * value;
  const double norm = std::sqrt(sum);
  last_gradient_norm_ = static_cast<float>(norm);
  const float scale = static_cast<float>(max_norm / (norm + 1e-6));
  if (scale >= 1.0f) return;
  for (size_t n = 0; n < graph_.nodes.size(); ++n)
    for (Tensor& grad : contexts_[n].weight_grads_)
      for (float& value : grad) value *= scale;
}

void Executor::set_external_gradients_zero() {
  for (int id : graph_.external_gradients) tensor(id).fill(0.0f);
}

float Executor::loss() const {
  float total = 0.0f;
  for (int id : graph_.loss_tensors) total += tensor(id)[0];
  return total;
}

}  // namespace edgetrain
