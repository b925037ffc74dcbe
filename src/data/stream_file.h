// Files the streaming datasets read sample by sample with positioned reads (pread), so
// that no sample is held in memory. A gzip file cannot be read at an offset: it is
// decompressed once into an uncompressed cache file, which later runs reuse.
//
// The cache of SOURCE is CACHE_DIR/HASH-NAME.cache, HASH a hash of SOURCE's absolute path,
// NAME its file name. It begins with a header (kCacheMagic, the format version, the
// source's absolute path, size and modification time, the size and CRC-32 of the
// uncompressed content), then the content. Opening checks all of these against the
// source and the cache file (its size, and the CRC of its content); a cache that fails
// any check is rebuilt. A cache is written to a temporary file, fsynced and renamed into
// place, so a killed run never leaves a half-written cache under the cache's name.
#pragma once

#include <sys/uio.h>

#include <cstddef>
#include <cstdint>
#include <string>

namespace edgetrain::data {

class StreamFile {
 public:
  // Opens `path` and reads its bytes as they are. Throws DataError naming the file.
  static StreamFile open_plain(const std::string& path);
  // Opens `path`; a gzip file (by its first two bytes) is read through its cache in
  // `cache_dir` (empty: default_cache_dir()), built or rebuilt when needed. A gzip stream
  // cut short is no error here: content() then holds what it gave and truncation_note()
  // zlib's reason, for the caller's "truncated" message. Throws DataError naming the
  // file: a missing file, corrupt gzip data, or a cache directory that cannot be created
  // or written (naming it).
  static StreamFile open(const std::string& path, const std::string& cache_dir);

  StreamFile(StreamFile&& other) noexcept;
  StreamFile& operator=(StreamFile&& other) noexcept;
  StreamFile(const StreamFile&) = delete;
  StreamFile& operator=(const StreamFile&) = delete;
  ~StreamFile();

  const std::string& path() const { return path_; }
  // Bytes of content (uncompressed, for a gzip file).
  uint64_t size() const { return size_; }
  // Reads exactly `count` bytes at `offset` of the content; safe from several threads.
  // Throws DataError naming the file when they cannot be read (the file shrank).
  void read(uint64_t offset, void* out, size_t count) const;
  // As read(), into several buffers one after the other.
  void read(uint64_t offset, iovec* buffers, int count) const;
  const std::string& truncation_note() const { return truncation_note_; }
  // The cache file read for a gzip file, "" for a plain file.
  const std::string& cache_path() const { return cache_path_; }

 private:
  StreamFile() = default;

  std::string path_;
  std::string cache_path_;
  std::string truncation_note_;
  int fd_ = -1;
  uint64_t offset_ = 0;  // where the content begins in the file read
  uint64_t size_ = 0;
};

// EDGETRAIN_CACHE_DIR, else $XDG_CACHE_HOME/edgetrain, else $HOME/.cache/edgetrain.
std::string default_cache_dir();
// The cache file of `source` in `cache_dir`.
std::string cache_file_path(const std::string& source, const std::string& cache_dir);

}  // namespace edgetrain::data
