// Weights files and checkpoints; the format is described in edgetrain/checkpoint.h.
//
// Writing streams the tensors from the model's arena into an AtomicFile, so saving needs
// no second copy of the weights. Reading loads the whole file, checks it completely, and
// only then copies into the model.
#include "edgetrain/checkpoint.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <algorithm>
#include <array>
#include <bit>
#include <cerrno>
#include <charconv>
#include <cstdint>
#include <cstdio>
#include <cstring>
#include <set>
#include <span>
#include <vector>

#include "edgetrain/error.h"
#include "edgetrain/rng.h"
#include "io/atomic_file.h"

namespace edgetrain {

// Tensor data goes between the arena and the file as raw bytes, which is the
// little-endian float32 the format specifies only on a little-endian machine.
static_assert(std::endian::native == std::endian::little,
              "the checkpoint format stores float32 little-endian; add byte swapping here");
static_assert(sizeof(float) == 4);

namespace {

constexpr std::array<char, 8> kMagic = {'E', 'D', 'G', 'E', 'T', 'R', 'N', '\0'};
constexpr std::array<char, 8> kEndMagic = {'E', 'D', 'G', 'E', 'E', 'N', 'D', '\0'};
constexpr uint32_t kVersion = 1;
constexpr uint32_t kDtypeFloat32 = 0;
constexpr size_t kAlignment = 64;
constexpr size_t kPreambleBytes = 16;  // magic, version, kind
constexpr size_t kTrailerBytes = 12;   // CRC-32, end marker
// The smallest well-formed file: preamble, two zero counts, trailer.
constexpr size_t kMinimumBytes = kPreambleBytes + 4 + 4 + kTrailerBytes;

enum class Kind : uint32_t { weights = 1, checkpoint = 2 };

constexpr const char* kIterationKey = "iteration";
constexpr const char* kLayerRngKey = "layer_rng";
constexpr const char* kWeightTensorsKey = "weight_tensors";

size_t align_up(size_t offset) { return (offset + kAlignment - 1) / kAlignment * kAlignment; }

uint32_t crc32_of(uint32_t crc, std::span<const std::byte> bytes) {
  return static_cast<uint32_t>(
      crc32_z(crc, reinterpret_cast<const Bytef*>(bytes.data()), bytes.size()));
}

std::span<const std::byte> bytes_of(const Tensor& tensor) {
  return std::as_bytes(std::span<const float>(tensor.data(), tensor.size()));
}

// ---------------------------------------------------------------- writing

// Builds the header in memory; it is small (names and metadata).
class HeaderWriter {
 public:
  void raw(std::span<const char> text) {
    for (char c : text) bytes_.push_back(static_cast<std::byte>(c));
  }
  void u32(uint32_t value) { little_endian(value, 4); }
  void u64(uint64_t value) { little_endian(value, 8); }
  // Callers check that `text` fits a u32 length.
  void string(const std::string& text) {
    u32(static_cast<uint32_t>(text.size()));
    raw(text);
  }
  size_t size() const { return bytes_.size(); }
  std::span<const std::byte> bytes() const { return bytes_; }

 private:
  void little_endian(uint64_t value, int bytes) {
    for (int i = 0; i < bytes; ++i) bytes_.push_back(static_cast<std::byte>(value >> (8 * i)));
  }

  std::vector<std::byte> bytes_;
};

std::vector<Model::NamedTensor> persistent_tensors(Model& model, bool with_optimizer,
                                                   const char* what) {
  try {
    return model.persistentTensors(with_optimizer);
  } catch (const StateError&) {
    throw StateError(std::string(what) +
                     " needs an initialized model: call compile() and initialize() first");
  }
}

void write_file(const std::string& path, Kind kind,
                const std::map<std::string, std::string>& metadata,
                const std::vector<Model::NamedTensor>& tensors) {
  auto check_length = [&](const std::string& text, const std::string& what) {
    if (text.size() > UINT32_MAX)
      throw CheckpointError("cannot save '" + path + "': " + what + " of " +
                            std::to_string(text.size()) +
                            " bytes is longer than the format allows (4 GiB)");
  };

  HeaderWriter header;
  header.raw(kMagic);
  header.u32(kVersion);
  header.u32(static_cast<uint32_t>(kind));
  header.u32(static_cast<uint32_t>(metadata.size()));
  for (const auto& [key, value] : metadata) {
    check_length(key, "a metadata key");
    check_length(value, "the value of metadata key '" + key + "'");
    header.string(key);
    header.string(value);
  }
  header.u32(static_cast<uint32_t>(tensors.size()));
  // Every entry has a fixed size besides its name, so the offsets are known before the
  // table is written.
  constexpr size_t kEntryBytes = 4 + 4 + 4 * 8 + 8 + 8;
  size_t table_end = header.size();
  for (const auto& named : tensors) {
    check_length(named.name, "a tensor name");
    table_end += kEntryBytes + named.name.size();
  }
  std::vector<size_t> offsets;
  size_t end = table_end;
  for (const auto& named : tensors) {
    offsets.push_back(align_up(end));
    end = offsets.back() + named.tensor.size() * sizeof(float);
  }
  for (size_t t = 0; t < tensors.size(); ++t) {
    const Tensor& tensor = tensors[t].tensor;
    header.string(tensors[t].name);
    header.u32(kDtypeFloat32);
    for (size_t dim : tensor.shape().dims()) header.u64(dim);
    header.u64(offsets[t]);
    header.u64(tensor.size() * sizeof(float));
  }
  ET_ASSERT(header.size() == table_end, "tensor table size miscounted");

  try {
    AtomicFile file(path);
    uint32_t crc = crc32_of(0, header.bytes());
    file.write(header.bytes());
    size_t position = header.size();
    static constexpr std::array<std::byte, kAlignment> kZeros{};
    for (size_t t = 0; t < tensors.size(); ++t) {
      const std::span<const std::byte> padding(kZeros.data(), offsets[t] - position);
      const std::span<const std::byte> data = bytes_of(tensors[t].tensor);
      crc = crc32_of(crc32_of(crc, padding), data);
      file.write(padding);
      file.write(data);
      position = offsets[t] + data.size();
    }
    HeaderWriter trailer;
    trailer.u32(crc);
    trailer.raw(kEndMagic);
    file.write(trailer.bytes());
    file.commit();
  } catch (const Error& error) {
    // AtomicFile reports plain Errors (it knows nothing of checkpoints); the message
    // already names the path.
    throw CheckpointError(error.what());
  }
}

// ---------------------------------------------------------------- reading

std::vector<std::byte> read_whole_file(const std::string& path) {
  const std::string problem = "cannot load '" + path + "': ";
  const int fd = ::open(path.c_str(), O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw CheckpointError(problem + std::strerror(errno));
  auto fail = [&](const std::string& reason) {
    ::close(fd);
    throw CheckpointError(problem + reason);
  };
  struct stat status {};
  if (::fstat(fd, &status) != 0) fail(std::strerror(errno));
  if (!S_ISREG(status.st_mode)) fail("not a regular file");
  std::vector<std::byte> bytes(static_cast<size_t>(status.st_size));
  size_t filled = 0;
  while (filled < bytes.size()) {
    const ssize_t got = ::read(fd, bytes.data() + filled, bytes.size() - filled);
    if (got == 0) break;  // the file shrank since fstat; the checks below will say so
    if (got < 0) {
      if (errno == EINTR) continue;
      fail(std::strerror(errno));
    }
    filled += static_cast<size_t>(got);
  }
  ::close(fd);
  bytes.resize(filled);
  return bytes;
}

struct FileTensor {
  std::string name;
  TensorShape shape;
  size_t offset = 0;
  size_t size = 0;
};

// A file that passed every check that does not need the model.
struct ParsedFile {
  std::string path;
  Kind kind = Kind::weights;
  std::map<std::string, std::string> metadata;
  std::vector<FileTensor> tensors;
  std::vector<std::byte> bytes;
  // Checkpoints only: the model state kept in the reserved metadata.
  size_t weight_tensors = 0;
  size_t iteration = 0;
  Rng layer_rng;
};

// Reads fields from the header, every read bounds-checked against the end of the body
// (the trailer is not part of it).
class HeaderReader {
 public:
  HeaderReader(std::span<const std::byte> body, size_t position, std::string problem)
      : body_(body), position_(position), problem_(std::move(problem)) {}

  uint32_t u32(const char* what) { return static_cast<uint32_t>(little_endian(4, what)); }
  uint64_t u64(const char* what) { return little_endian(8, what); }
  std::string string(const char* what) {
    const uint32_t length = u32(what);
    take(length, what);
    return std::string(reinterpret_cast<const char*>(body_.data()) + position_ - length, length);
  }
  size_t position() const { return position_; }
  [[noreturn]] void corrupt(const std::string& what) const {
    throw CheckpointError(problem_ + "the file is corrupt: " + what);
  }

 private:
  void take(size_t bytes, const char* what) {
    if (bytes > body_.size() - position_)
      corrupt(std::string(what) + " at byte " + std::to_string(position_) +
              " runs past the end of the data");
    position_ += bytes;
  }
  uint64_t little_endian(size_t bytes, const char* what) {
    take(bytes, what);
    uint64_t value = 0;
    for (size_t i = 0; i < bytes; ++i)
      value |= static_cast<uint64_t>(body_[position_ - bytes + i]) << (8 * i);
    return value;
  }

  std::span<const std::byte> body_;
  size_t position_;
  std::string problem_;
};

uint32_t read_u32(std::span<const std::byte> bytes, size_t offset) {
  uint32_t value = 0;
  for (size_t i = 0; i < 4; ++i) value |= static_cast<uint32_t>(bytes[offset + i]) << (8 * i);
  return value;
}

// Whether bytes [offset, offset + count) equal the first `count` bytes of `magic`.
bool matches(std::span<const std::byte> bytes, size_t offset, const std::array<char, 8>& magic,
             size_t count = kMagic.size()) {
  for (size_t i = 0; i < count; ++i)
    if (bytes[offset + i] != static_cast<std::byte>(magic[i])) return false;
  return true;
}

// A decimal number that must be all of `text`.
bool parse_size(const std::string& text, size_t& value) {
  const char* end = text.data() + text.size();
  auto [stop, error] = std::from_chars(text.data(), end, value);
  return error == std::errc() && stop == end && !text.empty();
}

const std::string& required_metadata(const ParsedFile& file, const char* key,
                                     const HeaderReader& reader) {
  auto found = file.metadata.find(key);
  if (found == file.metadata.end())
    reader.corrupt(std::string("the checkpoint lacks its '") + key + "' entry");
  return found->second;
}

ParsedFile parse_file(const std::string& path) {
  const std::string problem = "cannot load '" + path + "': ";
  ParsedFile file;
  file.path = path;
  file.bytes = read_whole_file(path);
  const std::span<const std::byte> bytes = file.bytes;

  // Truncated (a prefix of the magic) or another kind of file altogether?
  if (!matches(bytes, 0, kMagic, std::min(bytes.size(), kMagic.size())))
    throw CheckpointError(problem +
                          "not an edgetrain weights or checkpoint file (it does not "
                          "start with \"EDGETRN\")");
  if (bytes.size() < kMinimumBytes)
    throw CheckpointError(problem + "the file is truncated: " + std::to_string(bytes.size()) +
                          " bytes, fewer than the " + std::to_string(kMinimumBytes) +
                          " of the smallest valid file");
  // The version decides the layout of everything else, so it is checked before the
  // trailer: a newer file gets this message rather than a checksum error.
  const uint32_t version = read_u32(bytes, 8);
  if (version != kVersion)
    throw CheckpointError(problem + "format version " + std::to_string(version) +
                          " is not supported; this build of edgetrain reads version " +
                          std::to_string(kVersion) +
                          (version > kVersion ? " (the file is from a newer edgetrain)" : ""));
  const size_t body_end = bytes.size() - kTrailerBytes;
  if (!matches(bytes, body_end + 4, kEndMagic))
    throw CheckpointError(problem +
                          "the file is truncated or incomplete: it does not end with "
                          "the end marker \"EDGEEND\"");
  const uint32_t stored_crc = read_u32(bytes, body_end);
  const uint32_t computed_crc = crc32_of(0, bytes.first(body_end));
  if (stored_crc != computed_crc) {
    char text[64];
    std::snprintf(text, sizeof text, "stored 0x%08x, computed 0x%08x", stored_crc, computed_crc);
    throw CheckpointError(problem + "checksum mismatch (" + text + "): the file is corrupt");
  }

  // The checksum holds, so what follows fails only for a file that a buggy or hostile
  // writer produced; it is still checked so that no such file can crash the reader.
  HeaderReader reader(bytes.first(body_end), 12, problem);
  const uint32_t kind = reader.u32("the kind");
  if (kind != static_cast<uint32_t>(Kind::weights) &&
      kind != static_cast<uint32_t>(Kind::checkpoint))
    reader.corrupt("unknown kind " + std::to_string(kind) +
                   " (1: weights only, 2: training checkpoint)");
  file.kind = static_cast<Kind>(kind);
  const uint32_t entries = reader.u32("the metadata count");
  for (uint32_t e = 0; e < entries; ++e) {
    std::string key = reader.string("a metadata key");
    std::string value = reader.string("a metadata value");
    if (!file.metadata.emplace(key, std::move(value)).second)
      reader.corrupt("metadata key '" + key + "' appears twice");
  }
  const uint32_t count = reader.u32("the tensor count");
  std::set<std::string> names;
  size_t data_end = 0;  // where the previous tensor's data ends
  for (uint32_t t = 0; t < count; ++t) {
    FileTensor tensor;
    tensor.name = reader.string("a tensor name");
    const std::string about = "tensor '" + tensor.name + "'";
    const uint32_t dtype = reader.u32("a tensor dtype");
    if (dtype != kDtypeFloat32)
      throw CheckpointError(problem + about + " has dtype " + std::to_string(dtype) +
                            "; this build of edgetrain reads only dtype 0 (float32)");
    std::array<uint64_t, 4> dims;
    for (uint64_t& dim : dims) dim = reader.u64("a tensor dimension");
    const uint64_t offset = reader.u64("a tensor offset");
    const uint64_t size = reader.u64("a tensor size");
    // Dimensions of at least 1 whose product fits the file also fit a size_t.
    uint64_t expected_size = sizeof(float);
    for (uint64_t dim : dims)
      if (dim == 0 || __builtin_mul_overflow(expected_size, dim, &expected_size))
        reader.corrupt(about + " has a dimension of 0 or too large to address");
    if (size != expected_size)
      reader.corrupt(about + " has " + std::to_string(size) + " bytes of data for " +
                     std::to_string(expected_size / sizeof(float)) + " float32 values");
    if (offset % kAlignment != 0 || offset < data_end || size > body_end ||
        offset > body_end - size)
      reader.corrupt(about + ": its " + std::to_string(size) + " bytes at offset " +
                     std::to_string(offset) + " are misaligned, overlap the previous tensor" +
                     " or pass the end of the data (byte " + std::to_string(body_end) + ")");
    tensor.shape = TensorShape(dims[0], dims[1], dims[2], dims[3]);
    tensor.offset = offset;
    tensor.size = size;
    data_end = offset + size;
    if (!names.insert(tensor.name).second) reader.corrupt(about + " appears twice");
    file.tensors.push_back(std::move(tensor));
  }
  // Tensor data may only start after the table: the two must not overlap.
  if (!file.tensors.empty() && file.tensors.front().offset < reader.position())
    reader.corrupt("tensor data starts at byte " + std::to_string(file.tensors.front().offset) +
                   ", inside the tensor table that ends at byte " +
                   std::to_string(reader.position()));

  if (file.kind == Kind::checkpoint) {
    if (!parse_size(required_metadata(file, kWeightTensorsKey, reader), file.weight_tensors) ||
        file.weight_tensors > file.tensors.size())
      reader.corrupt("its 'weight_tensors' entry is not a count of at most " +
                     std::to_string(file.tensors.size()) + " tensors");
    if (!parse_size(required_metadata(file, kIterationKey, reader), file.iteration))
      reader.corrupt("its 'iteration' entry is not a number");
    const std::string& layer_rng = required_metadata(file, kLayerRngKey, reader);
    try {
      file.layer_rng.set_state(layer_rng);
    } catch (const Error& error) {
      reader.corrupt(std::string("its 'layer_rng' entry: ") + error.what());
    }
  } else {
    file.weight_tensors = file.tensors.size();
  }
  return file;
}

std::string join(const std::vector<std::string>& names) {
  std::string text;
  for (const std::string& name : names) text += (text.empty() ? "" : ", ") + name;
  return text;
}

// Pairs every model tensor with the file tensor of the same name, among the file's
// tensors [0, file_count). Throws CheckpointError listing every tensor missing from the
// file, every shape that differs, and every file tensor the model lacks.
std::vector<const FileTensor*> match_tensors(const ParsedFile& file, size_t file_count,
                                             const std::vector<Model::NamedTensor>& model) {
  std::map<std::string, const FileTensor*> in_file;
  for (size_t t = 0; t < file_count; ++t) in_file[file.tensors[t].name] = &file.tensors[t];
  std::vector<const FileTensor*> matched;
  std::vector<std::string> missing, mismatched, extra;
  for (const Model::NamedTensor& named : model) {
    auto found = in_file.find(named.name);
    if (found == in_file.end()) {
      missing.push_back(named.name);
      continue;
    }
    if (found->second->shape != named.tensor.shape())
      mismatched.push_back(named.name + " (file " + found->second->shape.str() + ", model " +
                           named.tensor.shape().str() + ")");
    matched.push_back(found->second);
    in_file.erase(found);
  }
  for (size_t t = 0; t < file_count; ++t)
    if (in_file.count(file.tensors[t].name)) extra.push_back(file.tensors[t].name);
  if (missing.empty() && mismatched.empty() && extra.empty()) return matched;

  std::string message = "cannot load '" + file.path + "': it does not match the model";
  if (!missing.empty()) message += "; the file lacks: " + join(missing);
  if (!mismatched.empty()) message += "; shapes differ: " + join(mismatched);
  if (!extra.empty()) message += "; the model lacks: " + join(extra);
  message +=
      ". Build the model with the architecture (and, for a checkpoint, the optimizer) that "
      "saved the file";
  throw CheckpointError(message);
}

void copy_tensors(const ParsedFile& file, const std::vector<Model::NamedTensor>& model,
                  const std::vector<const FileTensor*>& matched) {
  for (size_t t = 0; t < model.size(); ++t) {
    Tensor target = model[t].tensor;
    std::memcpy(target.data(), file.bytes.data() + matched[t]->offset, matched[t]->size);
  }
}

}  // namespace

void save_weights(Model& model, const std::string& path) {
  write_file(path, Kind::weights, {}, persistent_tensors(model, false, "save_weights()"));
}

void load_weights(Model& model, const std::string& path) {
  const auto tensors = persistent_tensors(model, false, "load_weights()");
  const ParsedFile file = parse_file(path);
  const auto matched = match_tensors(file, file.weight_tensors, tensors);
  copy_tensors(file, tensors, matched);
}

void save_checkpoint(Model& model, const CheckpointMetadata& metadata, const std::string& path) {
  const auto tensors = persistent_tensors(model, true, "save_checkpoint()");
  std::map<std::string, std::string> values = metadata.values;
  for (const char* key : {kIterationKey, kLayerRngKey, kWeightTensorsKey})
    if (values.count(key))
      throw CheckpointError("cannot save '" + path + "': metadata key '" + key +
                            "' is reserved: save_checkpoint writes it from the model");
  values[kIterationKey] = std::to_string(model.iteration());
  values[kLayerRngKey] = model.layerRng().state();
  values[kWeightTensorsKey] = std::to_string(model.persistentTensors(false).size());
  write_file(path, Kind::checkpoint, values, tensors);
}

CheckpointMetadata load_checkpoint(Model& model, const std::string& path) {
  const auto tensors = persistent_tensors(model, true, "load_checkpoint()");
  const ParsedFile file = parse_file(path);
  if (file.kind != Kind::checkpoint)
    throw CheckpointError("cannot load '" + path +
                          "' as a checkpoint: it is a weights file (save_weights) without "
                          "optimizer state, iteration or RNG state; load it with load_weights()");
  const auto matched = match_tensors(file, file.tensors.size(), tensors);
  // Everything is verified; from here on nothing can fail, so the model is never left
  // half loaded.
  copy_tensors(file, tensors, matched);
  model.setIteration(file.iteration);
  model.layerRng() = file.layer_rng;
  CheckpointMetadata metadata{file.metadata};
  for (const char* key : {kIterationKey, kLayerRngKey, kWeightTensorsKey})
    metadata.values.erase(key);
  return metadata;
}

}  // namespace edgetrain
