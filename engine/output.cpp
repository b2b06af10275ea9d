#include "engine/output.hpp"

#include <fcntl.h>
#include <unistd.h>

#include <charconv>
#include <cmath>
#include <stdexcept>

namespace cm {

AtomicFile::AtomicFile(std::filesystem::path target) : target_(std::move(target)) {
  temp_ = target_;
  temp_ += ".tmp." + std::to_string(::getpid());
  out_.open(temp_, std::ios::binary | std::ios::trunc);
  if (!out_) throw std::runtime_error("cannot write " + temp_.string());
}

AtomicFile::~AtomicFile() {
  if (!committed_) {
    out_.close();
    std::error_code ec;
    std::filesystem::remove(temp_, ec);
  }
}

void AtomicFile::commit() {
  out_.flush();
  if (!out_) throw std::runtime_error("write failed for " + temp_.string());
  out_.close();
  const int fd = ::open(temp_.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
  std::error_code ec;
  std::filesystem::rename(temp_, target_, ec);
  if (ec) throw std::runtime_error("cannot rename into " + target_.string() + ": " + ec.message());
  committed_ = true;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text) {
  AtomicFile f(path);
  f.stream().write(text.data(), static_cast<std::streamsize>(text.size()));
  f.commit();
}

std::string format_number(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v);
  return std::string(buf, res.ptr);
}

CsvWriter::CsvWriter(std::vector<std::string> header) : columns_(header.size()) {
  for (const auto& h : header) field(h);
  end_row();
}

void CsvWriter::separator() {
  if (in_row_ > 0) text_ += ',';
  ++in_row_;
}

CsvWriter& CsvWriter::field(std::string_view s) {
  separator();
  if (s.find_first_of(",\"\n\r") == std::string_view::npos) {
    text_ += s;
  } else {
    text_ += '"';
    for (char c : s) {
      if (c == '"') text_ += '"';
      text_ += c;
    }
    text_ += '"';
  }
  return *this;
}

CsvWriter& CsvWriter::field(double v) {
  separator();
  text_ += format_number(v);
  return *this;
}

CsvWriter& CsvWriter::field(long long v) {
  separator();
  text_ += std::to_string(v);
  return *this;
}

void CsvWriter::end_row() {
  if (in_row_ != columns_)
    throw std::logic_error("CSV row has " + std::to_string(in_row_) + " fields, header has " +
                           std::to_string(columns_));
  text_ += '\n';
  in_row_ = 0;
}

}  // namespace cm
