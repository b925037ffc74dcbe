// Epoch times of a model file's training set read from memory and streamed from the file
// (with and without prefetch), alternated in one process so that a busy machine slows
// all of them alike:
//
//   EDGETRAIN_CACHE_DIR=/tmp/cache build/bench/bench_stream_epoch MODEL.ini [ROUNDS [SAMPLES]]
//                                                                 [section.key=value ...]
//
// SAMPLES (0: all) trains on the first SAMPLES samples only, for quicker rounds.
// Each round trains one epoch of each kind on the same model (its weights go on
// training; only the time matters). Prints every epoch and the median of each kind.
#include <algorithm>
#include <chrono>
#include <cstdlib>
#include <iomanip>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "edgetrain/data.h"
#include "edgetrain/model.h"
#include "edgetrain/model_file.h"

int main(int argc, char** argv) {
  using namespace edgetrain;
  if (argc < 2) {
    std::cerr << "usage: bench_stream_epoch MODEL.ini [ROUNDS [SAMPLES]] [section.key=value ...]\n";
    return 2;
  }
  const int rounds = argc > 2 ? std::atoi(argv[2]) : 3;
  const size_t samples = argc > 3 ? std::strtoul(argv[3], nullptr, 10) : 0;
  std::vector<std::string> overrides(argv + std::min(argc, 4), argv + argc);
  ModelFile file = load_model_file(argv[1], overrides);
  if (!file.train_set) {
    std::cerr << argv[1] << ": no [train_set]\n";
    return 1;
  }
  Model& model = *file.model;
  model.compile();
  model.initialize();
  const TensorShape input = model.inputs().at(0).shape().with_batch(1);
  const size_t label_size = model.labels().at(0).shape().feature_size();
  DatasetSpec memory_spec = *file.train_set, stream_spec = *file.train_set;
  memory_spec.stream = false;
  stream_spec.stream = true;
  std::unique_ptr<Dataset> memory_file = open_dataset(memory_spec, input, label_size);
  std::unique_ptr<Dataset> streamed_file = open_dataset(stream_spec, input, label_size);
  std::vector<size_t> first(
      std::min(samples == 0 ? memory_file->size() : samples, memory_file->size()));
  for (size_t i = 0; i < first.size(); ++i) first[i] = i;
  SubsetDataset memory_subset(*memory_file, first), streamed_subset(*streamed_file, first);
  Dataset* memory = &memory_subset;
  Dataset* streamed = &streamed_subset;
  const std::vector<Tensor> inputs = model.inputs(), labels = model.labels();

  struct Kind {
    const char* name;
    Dataset* data;
    bool prefetch;
  };
  const std::vector<Kind> kinds = {
      {"memory", memory, false},
      {"stream+prefetch", streamed, true},
      {"stream", streamed, false},
  };
  std::map<std::string, std::vector<double>> seconds;
  for (int round = 1; round <= rounds; ++round) {
    for (const Kind& kind : kinds) {
      DataLoader loader(
          *kind.data,
          {.batch_size = model.batchSize(), .seed = model.seed(), .prefetch = kind.prefetch});
      const auto start = std::chrono::steady_clock::now();
      loader.start_epoch();
      while (const size_t n = loader.next_batch(inputs, labels)) model.trainStep(n);
      const double elapsed =
          std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
      seconds[kind.name].push_back(elapsed);
      std::cout << "round " << round << " " << std::setw(16) << kind.name << " " << std::fixed
                << std::setprecision(3) << elapsed << " s" << std::endl;
    }
  }
  for (const Kind& kind : kinds) {
    std::vector<double>& times = seconds[kind.name];
    std::sort(times.begin(), times.end());
    std::cout << std::setw(16) << kind.name << ": median " << times[times.size() / 2] << " s, min "
              << times.front() << " s per epoch" << std::endl;
  }
  return 0;
}
