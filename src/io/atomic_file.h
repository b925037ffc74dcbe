// Replaces a file atomically: readers of `path` see either the previous file or the
// complete new one, never a partial write, even if the process is killed or the
// machine loses power mid-write.
//
//   AtomicFile file(path);   // creates path.tmp.<pid> beside path
//   file.write(bytes);       // any number of times
//   file.commit();           // fsync, rename over path, fsync the directory
//
// Destroying an AtomicFile that was not committed removes its temporary file and leaves
// `path` untouched. A process killed before commit() leaves its temporary file behind;
// nothing reads it, and the next writer with the same pid overwrites it.
#pragma once

#include <span>
#include <string>

namespace edgetrain {

class AtomicFile {
 public:
  // Creates the temporary file. Throws Error naming `path` and the system's reason.
  explicit AtomicFile(std::string path);
  ~AtomicFile();
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;

  // Appends `bytes` to the temporary file. Throws Error naming `path`; the temporary
  // file is removed and the AtomicFile can no longer be written or committed.
  void write(std::span<const std::byte> bytes);
  // Makes the written bytes durable and moves them to `path`. Throws Error naming
  // `path`: if the rename has not happened yet, `path` still holds the previous file and
  // the temporary file is removed; if syncing the directory afterwards fails, `path`
  // holds the new file but it may not survive a power loss.
  void commit();

  const std::string& path() const { return path_; }

 private:
  // Closes and removes the temporary file, if any.
  void discard();
  // discard(), then throws Error naming `path`, `what` failed and the strerror of
  // `error_number`.
  [[noreturn]] void fail(const std::string& what, int error_number);

  std::string path_;
  std::string temp_path_;
  int fd_ = -1;               // open while writing; -1 once committed or failed
  bool temp_exists_ = false;  // the temporary file exists and is ours to remove
};

}  // namespace edgetrain
