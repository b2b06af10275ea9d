#include "engine/output.hpp"

#include <fcntl.h>
#include <sys/random.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <random>
#include <stdexcept>
#include <system_error>

namespace cm {

namespace detail {

// A buffered stream writing to a file descriptor; remembers a failed write.
class FdStreamBuf : public std::streambuf {
 public:
  explicit FdStreamBuf(int fd) : fd_(fd) { setp(buf_, buf_ + sizeof buf_); }
  bool failed() const { return failed_; }
  int fd() const { return fd_; }

 protected:
  int_type overflow(int_type c) override {
    if (!drain()) return traits_type::eof();
    if (!traits_type::eq_int_type(c, traits_type::eof())) {
      *pptr() = traits_type::to_char_type(c);
      pbump(1);
    }
    return traits_type::not_eof(c);
  }
  int sync() override { return drain() ? 0 : -1; }

 private:
  bool drain() {
    const char* p = pbase();
    while (p < pptr()) {
      const ssize_t n = ::write(fd_, p, static_cast<std::size_t>(pptr() - p));
      if (n < 0 && errno == EINTR) continue;
      if (n <= 0) {
        failed_ = true;
        setp(buf_, buf_ + sizeof buf_);
        return false;
      }
      p += n;
    }
    setp(buf_, buf_ + sizeof buf_);
    return true;
  }

  int fd_;
  bool failed_ = false;
  char buf_[1 << 16];
};

}  // namespace detail

namespace {

// A random suffix of letters and digits.
std::string random_suffix(std::size_t n) {
  static constexpr char kAlphabet[] =
      "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";
  std::string s;
  for (char b : random_bytes(n))
    s += kAlphabet[static_cast<unsigned char>(b) % (sizeof kAlphabet - 1)];
  return s;
}

std::string error_text(int err) {
  return std::error_code(err, std::generic_category()).message();
}

}  // namespace

std::string random_bytes(std::size_t n) {
  std::string bytes(n, '\0');
  std::size_t got = 0;
  while (got < n) {
    const ssize_t r = ::getrandom(bytes.data() + got, n - got, 0);
    if (r < 0 && errno == EINTR) continue;
    if (r <= 0) break;
    got += static_cast<std::size_t>(r);
  }
  if (got < n) {
    std::random_device rd;
    for (auto& b : bytes) b = static_cast<char>(rd());
  }
  return bytes;
}

AtomicFile::AtomicFile(std::filesystem::path target, unsigned mode)
    : target_(std::move(target)), out_(nullptr) {
  int fd = -1;
  for (int attempt = 0; attempt < 100 && fd < 0; ++attempt) {
    temp_ = target_;
    temp_ += ".tmp." + random_suffix(12);
    fd = ::open(temp_.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC,
                static_cast<mode_t>(mode));
    if (fd < 0 && errno != EEXIST)
      throw std::runtime_error("cannot write " + temp_.string() + ": " + error_text(errno));
  }
  if (fd < 0) throw std::runtime_error("cannot create a temporary file beside " + target_.string());
  buf_ = std::make_unique<detail::FdStreamBuf>(fd);
  out_.rdbuf(buf_.get());
}

AtomicFile::~AtomicFile() {
  if (!committed_ && buf_) {
    ::close(buf_->fd());
    ::unlink(temp_.c_str());
  }
}

void AtomicFile::commit() {
  out_.flush();
  const int fd = buf_->fd();
  if (!out_ || buf_->failed())
    throw std::runtime_error("write failed for " + temp_.string() + ": " + error_text(errno));
  if (::fsync(fd) != 0 && errno != EINVAL && errno != EROFS)
    throw std::runtime_error("cannot sync " + temp_.string() + ": " + error_text(errno));
  if (::close(fd) != 0) {
    buf_.reset();
    ::unlink(temp_.c_str());
    throw std::runtime_error("write failed for " + temp_.string() + ": " + error_text(errno));
  }
  buf_.reset();
  if (::rename(temp_.c_str(), target_.c_str()) != 0) {
    const int err = errno;
    ::unlink(temp_.c_str());
    throw std::runtime_error("cannot rename into " + target_.string() + ": " + error_text(err));
  }
  committed_ = true;
  sync_directory(target_.has_parent_path() ? target_.parent_path() : std::filesystem::path("."));
}

void sync_directory(const std::filesystem::path& dir) {
  const int fd = ::open(dir.c_str(), O_RDONLY | O_DIRECTORY | O_CLOEXEC);
  if (fd < 0) return;
  ::fsync(fd);
  ::close(fd);
}

bool is_temporary_file_name(std::string_view name) {
  const auto at = name.rfind(".tmp.");
  if (at == std::string_view::npos || at == 0 || at + 5 >= name.size()) return false;
  for (char c : name.substr(at + 5))
    if (!std::isalnum(static_cast<unsigned char>(c))) return false;
  return true;
}

void write_file_atomically(const std::filesystem::path& path, std::string_view text,
                           unsigned mode) {
  AtomicFile f(path, mode);
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
