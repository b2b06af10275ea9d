// One process per output directory.
//
// A command that writes into a directory (caremesh run, resume, compare, sweep, report,
// export) holds an exclusive flock(2) on DIR/.caremesh.lock for as long as it runs; a second
// process that wants the same directory is refused at once (DirectoryBusy) instead of mixing
// its files with the first one's. The lock file is opened with O_NOFOLLOW and never removed
// (removing it would let two processes lock two different files of the same name); the kernel
// releases the lock when the process ends, however it ends, so a killed run leaves no stale
// lock behind.
#pragma once

#include <filesystem>
#include <stdexcept>

namespace cm {

// Another process holds the directory (exit status 2 on the command line).
class DirectoryBusy : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

class DirectoryLock {
 public:
  static constexpr const char* kFileName = ".caremesh.lock";

  // Creates dir (and its parents) if needed and locks it; throws DirectoryBusy when another
  // process (or another DirectoryLock of this one) holds it, std::runtime_error when the
  // directory or the lock file cannot be created.
  explicit DirectoryLock(const std::filesystem::path& dir);
  DirectoryLock(DirectoryLock&& other) noexcept;
  DirectoryLock& operator=(DirectoryLock&&) = delete;
  DirectoryLock(const DirectoryLock&) = delete;
  DirectoryLock& operator=(const DirectoryLock&) = delete;
  ~DirectoryLock();

  const std::filesystem::path& dir() const { return dir_; }

 private:
  std::filesystem::path dir_;
  int fd_ = -1;
};

}  // namespace cm
