#include "io/atomic_file.h"

#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "edgetrain/error.h"

namespace edgetrain {

namespace {

// The directory holding `path`, which must be synced for a rename in it to be durable.
std::string directory_of(const std::string& path) {
  const std::string parent = std::filesystem::path(path).parent_path().string();
  return parent.empty() ? "." : parent;
}

}  // namespace

AtomicFile::AtomicFile(std::string path)
    : path_(std::move(path)), temp_path_(path_ + ".tmp." + std::to_string(::getpid())) {
  // The temporary file lives in the same directory as `path` because rename() is atomic
  // only within one file system.
  fd_ = ::open(temp_path_.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0666);
  if (fd_ < 0) fail("cannot create the temporary file '" + temp_path_ + "'", errno);
  temp_exists_ = true;
}

AtomicFile::~AtomicFile() { discard(); }

void AtomicFile::discard() {
  if (fd_ >= 0) ::close(fd_);
  fd_ = -1;
  if (temp_exists_) ::unlink(temp_path_.c_str());
  temp_exists_ = false;
}

void AtomicFile::write(std::span<const std::byte> bytes) {
  ET_ASSERT(fd_ >= 0, "AtomicFile::write after commit or failure");
  while (!bytes.empty()) {
    const ssize_t written = ::write(fd_, bytes.data(), bytes.size());
    if (written < 0) {
      if (errno == EINTR) continue;
      fail("cannot write the temporary file '" + temp_path_ + "'", errno);
    }
    bytes = bytes.subspan(static_cast<size_t>(written));
  }
}

void AtomicFile::commit() {
  ET_ASSERT(fd_ >= 0, "AtomicFile::commit after commit or failure");
  // Without this fsync the rename could reach the disk before the data, and a power
  // loss would leave `path` naming an empty or partial file.
  if (::fsync(fd_) != 0) fail("cannot sync the temporary file '" + temp_path_ + "'", errno);
  // close() can report a delayed write error (e.g. on network file systems).
  const int fd = fd_;
  fd_ = -1;
  if (::close(fd) != 0) fail("cannot close the temporary file '" + temp_path_ + "'", errno);
  if (::rename(temp_path_.c_str(), path_.c_str()) != 0)
    fail("cannot rename '" + temp_path_ + "' over it", errno);
  temp_exists_ = false;
  // The rename is recorded in the directory; sync it so that the new name survives a
  // power loss.
  const std::string directory = directory_of(path_);
  const int directory_fd = ::open(directory.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (directory_fd < 0) fail("cannot open its directory '" + directory + "' to sync it", errno);
  const int sync_result = ::fsync(directory_fd);
  const int error_number = errno;
  ::close(directory_fd);
  // Some file systems cannot sync a directory and say so with EINVAL; the rename is then
  // as durable as they allow.
  if (sync_result != 0 && error_number != EINVAL)
    fail("cannot sync its directory '" + directory + "'", error_number);
}

void AtomicFile::fail(const std::string& what, int error_number) {
  // strerror first: close() and unlink() in discard() may change errno.
  const std::string reason = std::strerror(error_number);
  discard();
  throw Error("cannot write '" + path_ + "': " + what + ": " + reason);
}

}  // namespace edgetrain
