// Weights files and training checkpoints.
//
//   edgetrain::save_weights(model, "model.bin");         // weights and layer state only
//   edgetrain::load_weights(model, "model.bin");         // for inference or fine-tuning
//   edgetrain::save_checkpoint(model, {{{"epoch", "3"}}}, "run.ckpt");
//   auto metadata = edgetrain::load_checkpoint(model, "run.ckpt");  // resume training
//
// Loading needs a model compiled and initialized with the same architecture as the one
// saved. The whole file is read and checked (length, magic, version, checksum, every
// tensor's name, shape and type against the model) before the model is touched: on any
// error the model is unchanged. Saving replaces the file atomically: a crash or kill
// mid-save leaves the previous file intact (see src/io/atomic_file.h).
//
// File format, version 1. Integers are little-endian. A "string" is a u32 byte length
// followed by that many bytes (no terminator).
//
//   offset   size  field
//   0        8     magic "EDGETRN\0"
//   8        4     u32 format version = 1
//   12       4     u32 kind: 1 = weights only, 2 = training checkpoint
//   16       4     u32 metadata entry count M
//                  M entries, keys unique and in ascending byte order:
//                    string key, string value
//            4     u32 tensor count T
//                  T entries, names unique:
//                    string  name: "layer:name" (weight or layer state) or
//                            "layer:name:state" (optimizer state, checkpoints only)
//                    u32     dtype: 0 = float32 (the only one so far)
//                    u64 x4  dims N, C, H, W
//                    u64     byte offset of the data from the start of the file
//                    u64     byte size of the data = N * C * H * W * 4
//            ...   tensor data in table order: each tensor starts at its offset, a multiple
//                  of 64 (so a reader may map the file and use the data in place), after
//                  zero padding; float32 values in N:C:H:W order
//   size-12  4     u32 CRC-32 (zlib's crc32) of bytes [0, size - 12)
//   size-8   8     end marker "EDGEEND\0"
//
// Tensors come in the order of Model::persistentTensors: weights and layer state (e.g.
// batch normalization's running statistics) in graph order, then, in a checkpoint,
// optimizer state. A weights file has no metadata. A checkpoint's metadata holds the
// caller's entries plus three that save_checkpoint writes from the model:
//   "iteration"       optimizer updates done (decimal)
//   "layer_rng"       the state of the random stream layers draw from (Rng::state())
//   "weight_tensors"  how many leading tensors are weights and layer state (decimal)
#pragma once

#include <map>
#include <string>

#include "edgetrain/model.h"

namespace edgetrain {

// What a training run stores beside the model: epoch, data loader RNG, best metric,
// optimizer name, ... as text. The keys "iteration", "layer_rng" and "weight_tensors"
// are reserved: save_checkpoint writes them from the model.
struct CheckpointMetadata {
  std::map<std::string, std::string> values;

  bool operator==(const CheckpointMetadata&) const = default;
};

// Writes the model's weights and layer state. Throws StateError if the model is not
// initialized, CheckpointError naming `path` if the file cannot be written.
void save_weights(Model& model, const std::string& path);

// Reads weights and layer state from a weights file or from a checkpoint (ignoring its
// optimizer state). Leaves the model's optimizer state, iteration and RNG as they are.
// Throws StateError if the model is not initialized, CheckpointError naming `path` if
// the file is missing, corrupt, or does not match the model's architecture.
void load_weights(Model& model, const std::string& path);

// Writes everything needed to resume training bit for bit: weights, layer state,
// optimizer state, the model's iteration and layer RNG, and `metadata`. Throws
// StateError if the model is not initialized, CheckpointError if `metadata` uses a
// reserved key or the file cannot be written.
void save_checkpoint(Model& model, const CheckpointMetadata& metadata, const std::string& path);

// Restores all that save_checkpoint wrote and returns the caller's metadata (without the
// reserved keys). Throws StateError if the model is not initialized, CheckpointError
// naming `path` if the file is missing, corrupt, a weights file, or does not match the
// model (architecture or optimizer).
CheckpointMetadata load_checkpoint(Model& model, const std::string& path);

}  // namespace edgetrain
