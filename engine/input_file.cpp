#include "engine/input_file.hpp"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cerrno>
#include <system_error>

namespace cm {

namespace {

std::string message(int err) {
  return std::error_code(err, std::generic_category()).message();
}

std::string kind_of(mode_t mode) {
  if (S_ISDIR(mode)) return "is a directory";
  if (S_ISFIFO(mode)) return "is a FIFO (named pipe)";
  if (S_ISCHR(mode)) return "is a character device";
  if (S_ISBLK(mode)) return "is a block device";
  if (S_ISSOCK(mode)) return "is a socket";
  return "is not a regular file";
}

// "a YAML file" -> "YAML file", for "expected a readable YAML file".
std::string strip_article(const std::string& what) {
  for (const char* a : {"a ", "an "})
    if (what.rfind(a, 0) == 0) return what.substr(std::string(a).size());
  return what;
}

std::string size_text(std::uint64_t n) {
  std::string s = std::to_string(n) + " bytes";
  if (n >= (1u << 20) && n % (1u << 20) == 0) s += " (" + std::to_string(n >> 20) + " MiB)";
  return s;
}

}  // namespace

std::optional<std::string> read_regular_file(const std::filesystem::path& path,
                                             std::uint64_t max_bytes, const std::string& what,
                                             std::string& error) {
  const int fd = ::open(path.c_str(), O_RDONLY | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
  if (fd < 0) {
    error = "cannot open file: " + message(errno) + ", expected a readable " + strip_article(what);
    return std::nullopt;
  }
  struct Closer {
    int fd;
    ~Closer() { ::close(fd); }
  } closer{fd};
  struct stat st {};
  if (::fstat(fd, &st) != 0) {
    error = "cannot read file: " + message(errno) + ", expected a readable " + strip_article(what);
    return std::nullopt;
  }
  if (!S_ISREG(st.st_mode)) {
    error = kind_of(st.st_mode) + ", expected " + what;
    return std::nullopt;
  }
  const auto too_large = [&](std::uint64_t n) {
    error = "is " + (n > max_bytes + 1 ? size_text(n) : "more than " + size_text(max_bytes)) +
            ", more than the " + size_text(max_bytes) + " allowed for " + what;
  };
  if (static_cast<std::uint64_t>(st.st_size) > max_bytes) {
    too_large(static_cast<std::uint64_t>(st.st_size));
    return std::nullopt;
  }
  std::string text;
  text.reserve(static_cast<std::size_t>(st.st_size));
  char buf[65536];
  for (;;) {
    const ssize_t n = ::read(fd, buf, sizeof buf);
    if (n < 0 && errno == EINTR) continue;
    if (n < 0) {
      error =
          "cannot read file: " + message(errno) + ", expected a readable " + strip_article(what);
      return std::nullopt;
    }
    if (n == 0) break;
    text.append(buf, static_cast<std::size_t>(n));
    if (text.size() > max_bytes) {
      too_large(text.size());
      return std::nullopt;
    }
  }
  return text;
}

}  // namespace cm
