// Model files: a whole training setup (layers, loss, optimizer, schedule, training options,
// data sets) in one INI file, in the dialect of NNTrainer's model files.
//
//   edgetrain::ModelFile file = edgetrain::load_model_file("mnist.ini", {"Model.epochs=5"});
//   file.model->compile();
//   file.model->initialize();
//
// docs/model-file.md describes every section and key. In short:
//   [Model]                  Type, Loss, Epochs, Batch_Size, seed, and the TrainerOptions
//                            keys (save_path, metrics_path, shuffle, drop_last, patience,
//                            monitor, min_delta)
//   [Optimizer]              Type = sgd | adam | adamw | rmsprop, and its properties
//   [LearningRateScheduler]  Type = constant | exponential | step | cosine | linear |
//                            warmup, and its properties
//   [train_set], [valid_set], [test_set]
//                            Type = file (path), idx (images, labels), csv (path) or
//                            image_folder (path; on [train_set] validation_split,
//                            test_split, seed, split_file, augment and its keys;
//                            skip_corrupt, normalize_mean, normalize_std);
//                            target = input (the label is the input: autoencoders);
//                            validation_split on [train_set]; stream = true
//                            (read samples from the file as needed: idx, file) and
//                            cache_dir (idx: where gzip files are decompressed to)
//   [DataSet]                NNTrainer's older TrainData / ValidData / TestData
//   any other section        a layer named after the section, of type Type, in file order
//
// Keys, the names of the fixed sections and the choices are case-insensitive; layer names
// and paths keep their case. Relative paths in the file resolve against its folder.
//
// Loss = cross is NNTrainer's cross-entropy, computed from the last layer's activation: a
// final softmax (Activation = softmax on the last layer, or a last activation layer) is
// left out of the model and the loss is cross_entropy, which applies softmax itself; a
// final sigmoid likewise gives bce_with_logits; no final activation gives cross_entropy.
// The model's outputs are therefore logits. Loss = cross_entropy, bce_with_logits and mse
// are taken as they are.
#pragma once

#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "edgetrain/dataset.h"
#include "edgetrain/model.h"
#include "edgetrain/trainer.h"

namespace edgetrain {

struct ModelFile {
  std::string path;              // the file, as given to load_model_file
  std::unique_ptr<Model> model;  // layers, loss, optimizer, scheduler; not compiled
  TrainerOptions trainer;
  std::optional<DatasetSpec> train_set;  // paths resolved; origin "file:line"
  std::optional<DatasetSpec> valid_set;
  std::optional<DatasetSpec> test_set;
};

// Reads the model file at `path`. Each override, "section.key=value" or "key=value" for
// [Model] (e.g. "Optimizer.learning_rate=0.01", "epochs=3"), replaces or adds that key
// after the file is read; it may add a missing [Model], [Optimizer],
// [LearningRateScheduler] or data-set section, but not a layer. Relative paths in
// overrides are left relative to the working directory.
// Throws ModelFileError whose message starts with where the problem is ("model.ini:12: ",
// "override 'epochs=x': ") and, for a bad key or value, keeps the message of the error
// behind it (unknown type, bad property).
ModelFile load_model_file(const std::string& path, const std::vector<std::string>& overrides = {});

}  // namespace edgetrain
