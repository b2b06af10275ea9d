// Output files that are either complete or absent.
//
// Every writer builds the file under a temporary name in the same directory and renames it
// into place only when it is closed successfully, so a run killed part-way never leaves a
// file that looks complete. The temporary name is random (NAME.tmp.XXXXXXXXXXXX) and created
// with O_CREAT|O_EXCL|O_NOFOLLOW, so a file or symlink planted at a predictable name is never
// written through; after the rename the directory is synced too, so the new name survives a
// power loss.
#pragma once

#include <filesystem>
#include <fstream>  // users of this header read files with it
#include <memory>
#include <ostream>
#include <string>
#include <string_view>
#include <vector>

namespace cm {

namespace detail {
class FdStreamBuf;
}

class AtomicFile {
 public:
  // mode: the new file's permissions (before the umask).
  explicit AtomicFile(std::filesystem::path target, unsigned mode = 0644);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  // discards the temporary file if commit() was not called

  std::ostream& stream() { return out_; }
  // Flushes, syncs and renames into place, then syncs the directory; throws
  // std::runtime_error on any failure.
  void commit();
  // The temporary file's path (for tests).
  const std::filesystem::path& temporary() const { return temp_; }

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::unique_ptr<detail::FdStreamBuf> buf_;
  std::ostream out_;
  bool committed_ = false;
};

// Writes text to path atomically.
void write_file_atomically(const std::filesystem::path& path, std::string_view text,
                           unsigned mode = 0644);

// n bytes from the kernel's random generator (getrandom; std::random_device if unavailable).
std::string random_bytes(std::size_t n);

// Whether a file name is that of an AtomicFile's temporary file (NAME.tmp.SUFFIX, the suffix
// letters and digits: also the NAME.tmp.PID of earlier versions).
bool is_temporary_file_name(std::string_view name);

// fsync on a directory, so that renames and removals in it are durable; errors are ignored
// (some file systems do not support it).
void sync_directory(const std::filesystem::path& dir);

// A CSV table built in memory and written atomically. Fields are quoted when needed (RFC 4180).
class CsvWriter {
 public:
  explicit CsvWriter(std::vector<std::string> header);
  CsvWriter& field(std::string_view s);
  CsvWriter& field(double v);
  CsvWriter& field(long long v);
  CsvWriter& field(int v) { return field(static_cast<long long>(v)); }
  CsvWriter& field(unsigned v) { return field(static_cast<long long>(v)); }
  CsvWriter& field(unsigned long v) { return field(static_cast<long long>(v)); }
  CsvWriter& field(long v) { return field(static_cast<long long>(v)); }
  CsvWriter& field(unsigned long long v) { return field(static_cast<long long>(v)); }
  void end_row();
  const std::string& text() const { return text_; }
  void write(const std::filesystem::path& path) const { write_file_atomically(path, text_); }

 private:
  void separator();
  std::string text_;
  std::size_t columns_;
  std::size_t in_row_ = 0;
};

// Shortest decimal text that reads back to the same double ("%.17g" trimmed); "nan" for NaN.
std::string format_number(double v);

}  // namespace cm
