// A small HTTP/1.1 server that holds up under slow and idle clients.
//
// One thread multiplexes every connection with poll(2); complete requests go to a fixed pool of
// worker threads, so a client can hold a connection but never a thread. What it guarantees:
//
// - a deadline for the whole request (headers and body) from its first byte, not per byte: a
//   client trickling a byte a second is answered 408 and dropped when the deadline passes;
// - limits on open connections in total and per client address; a new connection over a limit
//   first evicts the oldest idle one (no request under way), and is refused with 503 only when
//   none is idle;
// - idle connections (kept alive, or never sending) are closed after the idle timeout;
// - strict parsing: a request line of three parts and HTTP/1.0 or 1.1, header lines with a
//   token name and a colon (no obsolete folding, no control characters), exactly one valid Host
//   (HTTP/1.1), at most one Content-Length of digits, no Transfer-Encoding (501), bounded
//   header and body sizes (431, 413);
// - pipelined requests are answered in order; a client that half-closes after its request
//   still gets its answer.
//
// cpp-httplib (Debian 12: 0.11) serves each connection on a thread of its pool for as long as
// the connection lasts and restarts its read timeout on every byte, so a handful of slow
// clients holds every thread (issue 21); hence this server. It knows nothing of the workshop:
// models/socialcare/workshop/workshop.cpp routes the requests.
#pragma once

#include <atomic>
#include <chrono>
#include <cstddef>
#include <functional>
#include <memory>
#include <string>
#include <string_view>
#include <utility>
#include <vector>

namespace cm::http {

struct Request {
  std::string method, target, version;  // as sent: "GET", "/api/levers?x=1", "HTTP/1.1"
  std::string path;                     // target without its query
  std::vector<std::pair<std::string, std::string>> headers;  // names in lowercase, in order
  std::string body;
  std::string remote_addr;  // the client's IP address

  // The first value of a header (name in lowercase), or nullptr.
  const std::string* header(std::string_view name) const;
  std::string header_or(std::string_view name, std::string fallback = {}) const;
};

struct Response {
  int status = 200;
  std::string content_type = "application/json";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // besides the default ones
  bool close = false;  // close the connection after this answer
};

struct Limits {
  std::size_t max_connections = 256;                 // open connections in total
  std::size_t max_connections_per_client = 32;       // per remote address
  std::size_t max_header_bytes = 16 * 1024;          // request line and headers (431 beyond)
  std::size_t max_body_bytes = 16 * 1024;            // 413 beyond, from Content-Length
  std::chrono::milliseconds request_deadline{5000};  // whole request, from its first byte
  std::chrono::milliseconds idle_timeout{2000};      // connection without a request under way
  std::chrono::milliseconds write_deadline{5000};    // sending one answer
  std::size_t workers = 4;                           // threads running the handler
  std::size_t max_pending = 64;  // complete requests waiting for a worker (503 beyond)
  std::size_t max_requests_per_connection = 1000;
};

// The outcome of parsing one request from the front of a buffer.
struct ParseResult {
  enum Kind { incomplete, complete, error } kind = incomplete;
  std::size_t consumed = 0;  // complete: bytes of the request (headers and body)
  int status = 0;            // error: the status to answer with (400, 413, 431, 501, 505)
  std::string message;       // error: what is wrong
};

// Parses the request at the front of buf strictly (see the file comment).
ParseResult parse_request(std::string_view buf, const Limits& limits, Request& out);

// Parses a Host header value or an Origin's authority: host[:port], the host a DNS name, an
// IPv4 address or a bracketed IPv6 address; no user information, path or other characters.
// Sets host (lowercase) and port (-1 when absent).
bool parse_authority(std::string_view value, std::string& host, int& port);

// The counters of a server, for tests and the docs.
struct Stats {
  std::size_t accepted = 0, answered = 0, timed_out = 0, evicted_idle = 0, refused = 0;
};

class Server {
 public:
  using Handler = std::function<Response(const Request&)>;
  using ErrorPage = std::function<Response(int status, const std::string& message)>;

  // default_headers go into every answer.
  Server(Limits limits, Handler handler, ErrorPage error_page,
         std::vector<std::pair<std::string, std::string>> default_headers);
  ~Server();
  Server(const Server&) = delete;
  Server& operator=(const Server&) = delete;

  // Binds host:port (0: any free port) and listens; returns the port. Throws
  // std::runtime_error when it cannot.
  int bind(const std::string& host, int port);
  // Serves until stop() or *stop_flag; then closes every connection and waits for the
  // handlers under way.
  void run(const std::atomic<bool>* stop_flag = nullptr);
  void stop();
  Stats stats() const;

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace cm::http
