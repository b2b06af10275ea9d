// Output files that are either complete or absent.
//
// Every writer builds the file under a temporary name in the same directory and renames it
// into place only when it is closed successfully, so a run killed part-way never leaves a
// file that looks complete.
#pragma once

#include <filesystem>
#include <fstream>
#include <string>
#include <string_view>
#include <vector>

namespace cm {

class AtomicFile {
 public:
  explicit AtomicFile(std::filesystem::path target);
  AtomicFile(const AtomicFile&) = delete;
  AtomicFile& operator=(const AtomicFile&) = delete;
  ~AtomicFile();  // discards the temporary file if commit() was not called

  std::ostream& stream() { return out_; }
  // Flushes, syncs and renames into place; throws std::runtime_error on any failure.
  void commit();

 private:
  std::filesystem::path target_;
  std::filesystem::path temp_;
  std::ofstream out_;
  bool committed_ = false;
};

// Writes text to path atomically.
void write_file_atomically(const std::filesystem::path& path, std::string_view text);

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
