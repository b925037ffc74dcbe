// reduce_on_plateau: lowers the rate when a metric stops improving, as PyTorch's
// torch.optim.lr_scheduler.ReduceLROnPlateau, stepped by the trainer once per epoch with
// the monitored metric. After each epoch:
//   better   = metric < best * (1 - threshold)   (rel; a loss, lower is better)
//              metric > best * (1 + threshold)   (rel; an accuracy, higher is better)
//              metric < best - threshold, metric > best + threshold   (abs)
//   better: best = metric, bad_epochs = 0; else bad_epochs += 1
//   in cooldown (cooldown_left > 0): cooldown_left -= 1, bad_epochs = 0
//   bad_epochs > patience: lr = max(lr * factor, min_lr) if that lowers it by more than
//              eps; cooldown_left = cooldown, bad_epochs = 0
// The rate starts at learning_rate, else the optimizer's, and holds between epochs
// whatever the iteration. Like PyTorch, the first epoch always improves on the start
// (best = +-infinity).
// Properties: monitor (val_loss, the default; val_accuracy; loss; accuracy: the
// trainer's figures, lower is better for the losses, higher for the accuracies), factor
// (in [0, 1), default 0.1), patience (epochs, default 10), threshold (>= 0, default 1e-4),
// threshold_mode (rel or abs, default rel), cooldown (epochs, default 0), min_lr (>= 0,
// default 0), eps (>= 0, default 1e-8), learning_rate (>= 0, default: the optimizer's).
#pragma once

#include <optional>

#include "edgetrain/optimizer.h"

namespace edgetrain {

class ReduceOnPlateauScheduler : public LearningRateScheduler {
 public:
  std::string type() const override { return "reduce_on_plateau"; }
  bool set_property(const std::string& key, const std::string& value,
                    const std::string& owner) override;
  std::string property_keys() const override {
    return "monitor, factor, patience, threshold, threshold_mode, cooldown, min_lr, eps, "
           "learning_rate";
  }
  float learning_rate(size_t iteration, float base_learning_rate) const override;
  std::string monitor() const override { return monitor_; }
  void epoch_end(double metric, float base_learning_rate) override;
  std::vector<std::string> state() const override;
  void set_state(const std::vector<std::string>& state, const std::string& origin) override;

 private:
  bool minimizes() const { return monitor_ == "val_loss" || monitor_ == "loss"; }
  bool is_better(double metric) const;

  std::string monitor_ = "val_loss";
  double factor_ = 0.1;
  size_t patience_ = 10;
  double threshold_ = 1e-4;
  bool relative_threshold_ = true;
  size_t cooldown_ = 0;
  double min_lr_ = 0.0;
  double eps_ = 1e-8;
  std::optional<float> learning_rate_;

  // Changed by epoch_end. current_rate_ is unset until the first reduction.
  std::optional<double> current_rate_;
  std::optional<double> best_;  // unset: no epoch yet (PyTorch's +-infinity)
  size_t bad_epochs_ = 0;
  size_t cooldown_left_ = 0;
};

}  // namespace edgetrain
