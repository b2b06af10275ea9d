// Helpers shared by the tests that run the caremesh binary as a subprocess: whole-file text
// reading and writing, splitting into lines, and run_cli, which runs CAREMESH_BINARY (defined
// for caremesh_tests by tests/CMakeLists.txt) and captures its exit status, stdout and stderr.
#pragma once

#include <fcntl.h>
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>
#include <vector>

namespace cm::test {

// The whole content of a file ("" when it cannot be read).
inline std::string read_text(const std::filesystem::path& file) {
  std::ifstream in(file, std::ios::binary);
  std::ostringstream s;
  s << in.rdbuf();
  return s.str();
}

inline void write_text(const std::filesystem::path& file, const std::string& text) {
  std::ofstream(file, std::ios::binary) << text;
}

inline std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> lines;
  std::istringstream in(text);
  for (std::string line; std::getline(in, line);) lines.push_back(line);
  return lines;
}

struct CliResult {
  int status = -1;  // exit status; -1 when the process did not exit normally
  std::string out, err;
};

// Starts the caremesh binary with args, its stdout and stderr on the given descriptors; returns
// its pid (-1 when fork failed). The descriptors stay open in the caller.
inline pid_t spawn_cli(const std::vector<std::string>& args, int out_fd, int err_fd) {
  std::vector<std::string> argv_text = {CAREMESH_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  std::vector<char*> argv;
  for (auto& a : argv_text) argv.push_back(a.data());
  argv.push_back(nullptr);
  const pid_t pid = fork();
  if (pid == 0) {
    dup2(out_fd, 1);
    dup2(err_fd, 2);
    execv(CAREMESH_BINARY, argv.data());
    _exit(127);
  }
  return pid;
}

// Starts argv_text[0] (a path) with its arguments, stdout and stderr into the files `out` and
// `err`, and the environment `env` ("NAME=value" entries; empty: the caller's environment);
// returns its pid (-1 when fork failed). Everything is prepared before fork: the child only
// calls async-signal-safe functions.
inline pid_t spawn_program(const std::vector<std::string>& argv_text,
                           const std::filesystem::path& out, const std::filesystem::path& err,
                           const std::vector<std::string>& env = {}) {
  std::vector<std::string> args = argv_text, env_text = env;
  std::vector<char*> argv, envp;
  for (auto& a : args) argv.push_back(a.data());
  argv.push_back(nullptr);
  for (auto& e : env_text) envp.push_back(e.data());
  envp.push_back(nullptr);
  const std::string out_path = out.string(), err_path = err.string();
  const pid_t pid = fork();
  if (pid == 0) {
    const int o = ::open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    const int e = ::open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
    dup2(o, 1);
    dup2(e, 2);
    if (env.empty())
      execv(argv[0], argv.data());
    else
      execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

// The caremesh binary with args, stdout and stderr into files.
inline pid_t spawn_cli(const std::vector<std::string>& args, const std::filesystem::path& out,
                       const std::filesystem::path& err) {
  std::vector<std::string> argv_text = {CAREMESH_BINARY};
  argv_text.insert(argv_text.end(), args.begin(), args.end());
  return spawn_program(argv_text, out, err);
}

// Waits for pid; its exit status, or -1 when it did not exit normally.
inline int wait_status(pid_t pid) {
  int st = 0;
  if (pid > 0 && waitpid(pid, &st, 0) == pid && WIFEXITED(st)) return WEXITSTATUS(st);
  return -1;
}

// Runs the caremesh binary with args, capturing stdout and stderr through temporary files.
inline CliResult run_cli(const std::vector<std::string>& args) {
  namespace fs = std::filesystem;
  const fs::path dir = fs::temp_directory_path();
  std::string out_name = (dir / "caremesh_cli_out_XXXXXX").string();
  std::string err_name = (dir / "caremesh_cli_err_XXXXXX").string();
  const int out_fd = mkstemp(out_name.data());
  const int err_fd = mkstemp(err_name.data());
  CliResult r;
  if (out_fd < 0 || err_fd < 0) {
    ADD_FAILURE() << "cannot create temporary files";
    return r;
  }
  const pid_t pid = spawn_cli(args, out_fd, err_fd);
  close(out_fd);
  close(err_fd);
  r.status = wait_status(pid);
  r.out = read_text(out_name);
  r.err = read_text(err_name);
  fs::remove(out_name);
  fs::remove(err_name);
  return r;
}

}  // namespace cm::test
