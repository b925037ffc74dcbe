#include <iomanip>
#include <ostream>
#include <sstream>

#include "edgetrain/model.h"
#include "edgetrain/trainer.h"
#include "train/text_table.h"

namespace edgetrain {

namespace {

std::string milliseconds(double seconds, size_t steps) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(3) << 1e3 * seconds / static_cast<double>(steps);
  return text.str();
}

std::string percent(double part, double whole) {
  std::ostringstream text;
  text << std::fixed << std::setprecision(1) << (whole > 0 ? 100.0 * part / whole : 0.0) << "%";
  return text.str();
}

}  // namespace

void print_training_profile(std::ostream& out, const TrainingProfile& profile,
                            const TrainResult& run) {
  const size_t steps = std::max<size_t>(1, profile.iterations);
  // Everything the run spent, so the shares say where an epoch's time went.
  const double whole =
      run.data_seconds + run.step_seconds + run.validation_seconds + run.checkpoint_seconds;
  out << "Time per training step (ms, mean over " << profile.iterations
      << " steps; share of the run's " << std::fixed << std::setprecision(2) << whole << " s):\n";
  std::vector<std::vector<std::string>> rows = {
      {"Layer", "Type", "forward", "derivative", "gradient", "optimizer", "total", "share"}};
  for (const LayerTime& layer : profile.layers) {
    if (layer.total() == 0.0) continue;  // nothing to run (e.g. an input layer's copy-free view)
    rows.push_back({layer.layer, layer.type, milliseconds(layer.forward, steps),
                    milliseconds(layer.calc_derivative, steps),
                    milliseconds(layer.calc_gradient, steps), milliseconds(layer.optimizer, steps),
                    milliseconds(layer.total(), steps), percent(layer.total(), whole)});
  }
  auto add_row = [&](const std::string& what, double seconds) {
    if (seconds > 0.0)
      rows.push_back(
          {what, "", "", "", "", "", milliseconds(seconds, steps), percent(seconds, whole)});
  };
  add_row("(clip_grad_norm)", profile.clip_gradients);
  add_row("(recompute)", profile.recompute);
  add_row("(swap wait)", profile.swap_wait);
  // The step's remainder: the loss check, gradient zeroing, the executor's own work.
  add_row("(step, other)", std::max(0.0, run.step_seconds - profile.total()));
  add_row("(data loading)", run.data_seconds);
  add_row("(validation)", run.validation_seconds);
  add_row("(checkpoints)", run.checkpoint_seconds);
  print_table(out, rows);
}

}  // namespace edgetrain
