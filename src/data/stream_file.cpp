#include "data/stream_file.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include <array>
#include <cerrno>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <filesystem>
#include <memory>
#include <utility>
#include <vector>

#include "edgetrain/error.h"

namespace edgetrain::data {

namespace {

constexpr std::array<char, 8> kCacheMagic = {'E', 'T', 'G', 'Z', 'C', 'A', 'C', 'H'};
constexpr uint32_t kCacheVersion = 1;
constexpr size_t kChunk = size_t{64} << 10;  // decompression and checksum buffer

// The fixed part of a cache file's header; the source's absolute path follows it, then
// the content at header_bytes. Host byte order: a cache is read where it was written.
struct CacheHeader {
  std::array<char, 8> magic{};
  uint32_t version = 0;
  uint32_t header_bytes = 0;
  uint64_t source_size = 0;
  int64_t source_mtime_ns = 0;
  uint64_t content_size = 0;
  uint32_t content_crc = 0;
  uint32_t path_bytes = 0;
};
static_assert(sizeof(CacheHeader) == 48);

std::string error_text(int error_number) { return std::strerror(error_number); }

class Fd {
 public:
  explicit Fd(int fd = -1) : fd_(fd) {}
  ~Fd() { reset(); }
  Fd(const Fd&) = delete;
  Fd& operator=(const Fd&) = delete;
  int get() const { return fd_; }
  int release() { return std::exchange(fd_, -1); }
  void reset() {
    if (fd_ >= 0) ::close(fd_);
    fd_ = -1;
  }

 private:
  int fd_;
};

// Reads up to `count` bytes at `offset`; fewer only at the end of the file. -1: errno.
ssize_t pread_full(int fd, void* out, size_t count, uint64_t offset) {
  size_t done = 0;
  while (done < count) {
    const ssize_t got = ::pread(fd, static_cast<char*>(out) + done, count - done,
                                static_cast<off_t>(offset + done));
    if (got < 0) {
      if (errno == EINTR) continue;
      return -1;
    }
    if (got == 0) break;
    done += static_cast<size_t>(got);
  }
  return static_cast<ssize_t>(done);
}

bool write_full(int fd, const void* data, size_t count) {
  const char* bytes = static_cast<const char*>(data);
  while (count > 0) {
    const ssize_t written = ::write(fd, bytes, count);
    if (written < 0) {
      if (errno == EINTR) continue;
      return false;
    }
    bytes += written;
    count -= static_cast<size_t>(written);
  }
  return true;
}

int64_t mtime_ns(const struct stat& info) {
  return static_cast<int64_t>(info.st_mtim.tv_sec) * 1000000000 + info.st_mtim.tv_nsec;
}

// FNV-1a, 64 bits: a short stable name for a path.
std::string path_hash(const std::string& text) {
  uint64_t hash = 14695981039346656037ull;
  for (unsigned char c : text) hash = (hash ^ c) * 1099511628211ull;
  char hex[17];
  std::snprintf(hex, sizeof(hex), "%016llx", static_cast<unsigned long long>(hash));
  return hex;
}

std::string absolute_path(const std::string& path) {
  std::error_code error;
  const std::filesystem::path absolute = std::filesystem::absolute(path, error);
  return error ? path : absolute.lexically_normal().string();
}

// The CRC-32 of `size` bytes at `offset`; false when they cannot all be read.
bool checksum(int fd, uint64_t offset, uint64_t size, uint32_t& crc) {
  std::vector<unsigned char> buffer(kChunk);
  uLong value = crc32(0L, Z_NULL, 0);
  for (uint64_t done = 0; done < size;) {
    const size_t want = static_cast<size_t>(std::min<uint64_t>(kChunk, size - done));
    if (pread_full(fd, buffer.data(), want, offset + done) != static_cast<ssize_t>(want))
      return false;
    value = crc32(value, buffer.data(), static_cast<uInt>(want));
    done += want;
  }
  crc = static_cast<uint32_t>(value);
  return true;
}

// The cache at `cache_path` when it is complete and belongs to this version of the
// source: an open descriptor and its header; -1 otherwise.
int open_valid_cache(const std::string& cache_path, const std::string& source_absolute,
                     const struct stat& source, CacheHeader& header) {
  Fd fd(::open(cache_path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) return -1;
  struct stat info = {};
  if (::fstat(fd.get(), &info) != 0) return -1;
  if (pread_full(fd.get(), &header, sizeof(header), 0) != static_cast<ssize_t>(sizeof(header)))
    return -1;
  if (header.magic != kCacheMagic || header.version != kCacheVersion ||
      header.path_bytes != source_absolute.size() ||
      header.header_bytes != sizeof(CacheHeader) + header.path_bytes ||
      header.source_size != static_cast<uint64_t>(source.st_size) ||
      header.source_mtime_ns != mtime_ns(source) ||
      static_cast<uint64_t>(info.st_size) != header.header_bytes + header.content_size)
    return -1;
  std::string path(header.path_bytes, '\0');
  if (pread_full(fd.get(), path.data(), path.size(), sizeof(header)) !=
          static_cast<ssize_t>(path.size()) ||
      path != source_absolute)
    return -1;
  uint32_t crc = 0;
  if (!checksum(fd.get(), header.header_bytes, header.content_size, crc) ||
      crc != header.content_crc)
    return -1;
  return fd.release();
}

struct GzClose {
  void operator()(gzFile file) const { gzclose(file); }
};

// zlib's message for `file`'s last error, without the path it puts in front.
std::string zlib_message(gzFile file, const std::string& path) {
  int code = Z_OK;
  const char* text = gzerror(file, &code);
  if (code == Z_ERRNO) return error_text(errno);
  std::string message = text != nullptr ? text : "";
  if (message.starts_with(path + ": ")) message.erase(0, path.size() + 2);
  return message.empty() ? "zlib error " + std::to_string(code) : message;
}

}  // namespace

std::string default_cache_dir() {
  if (const char* dir = std::getenv("EDGETRAIN_CACHE_DIR"); dir != nullptr && *dir != '\0')
    return dir;
  if (const char* xdg = std::getenv("XDG_CACHE_HOME"); xdg != nullptr && *xdg != '\0')
    return (std::filesystem::path(xdg) / "edgetrain").string();
  const char* home = std::getenv("HOME");
  if (home == nullptr || *home == '\0')
    throw DataError(
        "no cache directory for decompressed gzip files: set EDGETRAIN_CACHE_DIR or the data "
        "set's cache_dir");
  return (std::filesystem::path(home) / ".cache" / "edgetrain").string();
}

std::string cache_file_path(const std::string& source, const std::string& cache_dir) {
  const std::string absolute = absolute_path(source);
  std::string name = std::filesystem::path(absolute).filename().string();
  if (name.ends_with(".gz")) name.resize(name.size() - 3);
  return (std::filesystem::path(cache_dir) / (path_hash(absolute) + "-" + name + ".cache"))
      .string();
}

StreamFile::StreamFile(StreamFile&& other) noexcept
    : path_(std::move(other.path_)),
      cache_path_(std::move(other.cache_path_)),
      truncation_note_(std::move(other.truncation_note_)),
      fd_(std::exchange(other.fd_, -1)),
      offset_(other.offset_),
      size_(other.size_) {}

StreamFile& StreamFile::operator=(StreamFile&& other) noexcept {
  if (this != &other) {
    if (fd_ >= 0) ::close(fd_);
    path_ = std::move(other.path_);
    cache_path_ = std::move(other.cache_path_);
    truncation_note_ = std::move(other.truncation_note_);
    fd_ = std::exchange(other.fd_, -1);
    offset_ = other.offset_;
    size_ = other.size_;
  }
  return *this;
}

StreamFile::~StreamFile() {
  if (fd_ >= 0) ::close(fd_);
}

StreamFile StreamFile::open_plain(const std::string& path) {
  StreamFile file;
  file.path_ = path;
  Fd fd(::open(path.c_str(), O_RDONLY | O_CLOEXEC));
  if (fd.get() < 0) throw DataError(path + ": cannot open: " + error_text(errno));
  struct stat info = {};
  if (::fstat(fd.get(), &info) != 0) throw DataError(path + ": cannot open: " + error_text(errno));
  file.size_ = static_cast<uint64_t>(info.st_size);
  file.fd_ = fd.release();
  return file;
}

StreamFile StreamFile::open(const std::string& path, const std::string& cache_dir_option) {
  StreamFile plain = open_plain(path);
  std::array<unsigned char, 2> magic{};
  if (plain.size() < 2 || pread_full(plain.fd_, magic.data(), 2, 0) != 2 || magic[0] != 0x1f ||
      magic[1] != 0x8b)
    return plain;

  // A gzip file: find or build its cache.
  struct stat source = {};
  if (::fstat(plain.fd_, &source) != 0)
    throw DataError(path + ": cannot open: " + error_text(errno));
  const std::string cache_dir = cache_dir_option.empty() ? default_cache_dir() : cache_dir_option;
  const std::string absolute = absolute_path(path);
  StreamFile file;
  file.path_ = path;
  file.cache_path_ = cache_file_path(path, cache_dir);
  CacheHeader header;
  if (int fd = open_valid_cache(file.cache_path_, absolute, source, header); fd >= 0) {
    file.fd_ = fd;
    file.offset_ = header.header_bytes;
    file.size_ = header.content_size;
    return file;
  }

  std::error_code error;
  std::filesystem::create_directories(cache_dir, error);
  if (error || !std::filesystem::is_directory(cache_dir))
    throw DataError(path + ": cannot create the cache directory " + cache_dir + ": " +
                    (error ? error.message() : "not a directory"));
  std::string temp_path = file.cache_path_ + ".tmp.XXXXXX";
  Fd temp(::mkstemp(temp_path.data()));
  if (temp.get() < 0)
    throw DataError(path + ": cannot write a cache file in the cache directory " + cache_dir +
                    ": " + error_text(errno));
  // Removes the temporary file unless it became the cache.
  auto remove_temp = [&](std::string* name) { ::unlink(name->c_str()); };
  std::unique_ptr<std::string, decltype(remove_temp)> temp_guard(&temp_path, remove_temp);
  auto fail_write = [&](const char* what) -> DataError {
    return DataError(path + ": cannot " + what + " the cache file " + temp_path + ": " +
                     error_text(errno));
  };

  header = {};
  header.magic = kCacheMagic;
  header.version = kCacheVersion;
  header.path_bytes = static_cast<uint32_t>(absolute.size());
  header.header_bytes = static_cast<uint32_t>(sizeof(CacheHeader) + absolute.size());
  header.source_size = static_cast<uint64_t>(source.st_size);
  header.source_mtime_ns = mtime_ns(source);
  if (!write_full(temp.get(), &header, sizeof(header)) ||
      !write_full(temp.get(), absolute.data(), absolute.size()))
    throw fail_write("write");

  // Decompress with a fixed buffer, never holding the file.
  {
    errno = 0;
    std::unique_ptr<gzFile_s, GzClose> gz(gzopen(path.c_str(), "rb"));
    if (!gz)
      throw DataError(path + ": cannot open: " +
                      (errno != 0 ? error_text(errno) : "zlib could not allocate a reader"));
    std::vector<unsigned char> buffer(kChunk);
    uLong crc = crc32(0L, Z_NULL, 0);
    uint64_t size = 0;
    while (true) {
      const int got = gzread(gz.get(), buffer.data(), static_cast<unsigned>(buffer.size()));
      if (got < 0) {
        int code = Z_OK;
        gzerror(gz.get(), &code);
        throw DataError(code == Z_ERRNO
                            ? path + ": cannot read: " + zlib_message(gz.get(), path)
                            : path + ": corrupt gzip data (" + zlib_message(gz.get(), path) + ")");
      }
      if (got == 0) break;
      if (!write_full(temp.get(), buffer.data(), static_cast<size_t>(got)))
        throw fail_write("write");
      crc = crc32(crc, buffer.data(), static_cast<uInt>(got));
      size += static_cast<uint64_t>(got);
    }
    int code = Z_OK;
    gzerror(gz.get(), &code);
    if (code != Z_OK) file.truncation_note_ = zlib_message(gz.get(), path);
    header.content_size = size;
    header.content_crc = static_cast<uint32_t>(crc);
  }
  file.offset_ = header.header_bytes;
  file.size_ = header.content_size;
  if (!file.truncation_note_.empty()) {
    // A gzip stream cut short: its content is read for the caller's message, from the
    // temporary file, which is never made the cache.
    file.cache_path_.clear();
    file.fd_ = temp.release();
    return file;
  }
  if (::pwrite(temp.get(), &header, sizeof(header), 0) != static_cast<ssize_t>(sizeof(header)))
    throw fail_write("write");
  if (::fsync(temp.get()) != 0) throw fail_write("sync");
  if (::rename(temp_path.c_str(), file.cache_path_.c_str()) != 0)
    throw DataError(path + ": cannot rename the cache file " + temp_path + " to " +
                    file.cache_path_ + ": " + error_text(errno));
  temp_guard.release();
  // Make the new name durable; a file system that cannot sync a directory says EINVAL.
  if (Fd dir(::open(cache_dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC)); dir.get() >= 0)
    ::fsync(dir.get());
  // Reopen read-only: the descriptor written through was opened for writing.
  Fd cache(::open(file.cache_path_.c_str(), O_RDONLY | O_CLOEXEC));
  if (cache.get() < 0)
    throw DataError(path + ": cannot open the cache file " + file.cache_path_ + ": " +
                    error_text(errno));
  file.fd_ = cache.release();
  return file;
}

void StreamFile::read(uint64_t offset, void* out, size_t count) const {
  const ssize_t got = pread_full(fd_, out, count, offset_ + offset);
  if (got != static_cast<ssize_t>(count)) {
    const std::string where = cache_path_.empty() ? "" : " (through the cache " + cache_path_ + ")";
    throw DataError(path_ + ": cannot read " + std::to_string(count) + " bytes at offset " +
                    std::to_string(offset) + where + ": " +
                    (got < 0 ? error_text(errno) : "the file is shorter than when it was opened"));
  }
}

void StreamFile::read(uint64_t offset, iovec* buffers, int count) const {
  size_t total = 0;
  for (int i = 0; i < count; ++i) total += buffers[i].iov_len;
  ssize_t got = -1;
  do {
    got = ::preadv(fd_, buffers, count, static_cast<off_t>(offset_ + offset));
  } while (got < 0 && errno == EINTR);
  if (got == static_cast<ssize_t>(total)) return;
  // A short read (rare for regular files): read the buffers one by one.
  uint64_t at = offset;
  for (int i = 0; i < count; ++i) {
    read(at, buffers[i].iov_base, buffers[i].iov_len);
    at += buffers[i].iov_len;
  }
}

}  // namespace edgetrain::data
