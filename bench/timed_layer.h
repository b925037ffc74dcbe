// A Layer that wraps another and adds the wall time and the calling thread's CPU time of
// its forward, calc_gradient and calc_derivative calls to counters: per-layer timing
// through the real graph, planner and executor, with neither of them changed. Everything
// else is forwarded unchanged. On a shared machine the CPU time of serial code is the
// steadier figure (it leaves out time the thread waited to be scheduled); it does not
// count work done on other threads.
#pragma once

#include <chrono>
#include <ctime>
#include <memory>
#include <string>
#include <utility>

#include "edgetrain/layer.h"

namespace edgetrain::bench {

class TimedLayer final : public Layer {
 public:
  // Seconds spent in each phase since the last reset(), and the number of calls.
  struct Phase {
    double wall = 0, cpu = 0;  // seconds
    size_t calls = 0;
  };
  struct Times {
    Phase forward, gradient, derivative;
    double backward_wall() const { return gradient.wall + derivative.wall; }
    double backward_cpu() const { return gradient.cpu + derivative.cpu; }
  };

  explicit TimedLayer(std::unique_ptr<Layer> inner) : inner_(std::move(inner)) {}

  const Times& times() const { return times_; }
  void reset() { times_ = Times(); }
  Layer& inner() { return *inner_; }

  std::string type() const override { return inner_->type(); }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override {
    return inner_->set_property(key, value, owner);
  }
  std::string property_keys() const override { return inner_->property_keys(); }
  void finalize(FinalizeContext& context) override { inner_->finalize(context); }
  void forward(RunContext& context) override {
    timed(times_.forward, [&] { inner_->forward(context); });
  }
  void calc_gradient(RunContext& context) override {
    timed(times_.gradient, [&] { inner_->calc_gradient(context); });
  }
  void calc_derivative(RunContext& context) override {
    timed(times_.derivative, [&] { inner_->calc_derivative(context); });
  }
  bool backward_needs_input(size_t i) const override { return inner_->backward_needs_input(i); }
  bool backward_needs_output(size_t i) const override { return inner_->backward_needs_output(i); }
  bool output_is_input_view() const override { return inner_->output_is_input_view(); }
  bool is_loss() const override { return inner_->is_loss(); }

 private:
  static double thread_cpu_seconds() {
    timespec now{};
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &now);
    return static_cast<double>(now.tv_sec) + 1e-9 * static_cast<double>(now.tv_nsec);
  }

  template <typename Call>
  static void timed(Phase& phase, Call call) {
    const double cpu_start = thread_cpu_seconds();
    const auto start = std::chrono::steady_clock::now();
    call();
    phase.wall += std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
    phase.cpu += thread_cpu_seconds() - cpu_start;
    ++phase.calls;
  }

  std::unique_ptr<Layer> inner_;
  Times times_;
};

}  // namespace edgetrain::bench
