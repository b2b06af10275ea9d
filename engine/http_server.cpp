#include "engine/http_server.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <sys/eventfd.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cerrno>
#include <deque>
#include <map>
#include <mutex>
#include <optional>
#include <stdexcept>
#include <thread>
#include <unordered_map>

#include "engine/blocking_queue.hpp"

namespace cm::http {

using Clock = std::chrono::steady_clock;

// ---- parsing --------------------------------------------------------------------------------

namespace {

bool is_tchar(char c) {
  return std::isalnum(static_cast<unsigned char>(c)) ||
         std::string_view("!#$%&'*+-.^_`|~").find(c) != std::string_view::npos;
}

bool is_token(std::string_view s) {
  return !s.empty() && std::all_of(s.begin(), s.end(), is_tchar);
}

std::string lower(std::string_view s) {
  std::string out(s);
  for (char& c : out) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
  return out;
}

std::string_view trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t')) s.remove_suffix(1);
  return s;
}

ParseResult fail(int status, std::string message) {
  ParseResult r;
  r.kind = ParseResult::error;
  r.status = status;
  r.message = std::move(message);
  return r;
}

}  // namespace

const std::string* Request::header(std::string_view name) const {
  for (const auto& [k, v] : headers)
    if (k == name) return &v;
  return nullptr;
}

std::string Request::header_or(std::string_view name, std::string fallback) const {
  const std::string* v = header(name);
  return v ? *v : fallback;
}

bool parse_authority(std::string_view value, std::string& host, int& port) {
  port = -1;
  if (value.empty()) return false;
  std::string_view h = value, p;
  if (value.front() == '[') {
    const auto close = value.find(']');
    if (close == std::string_view::npos || close < 2) return false;
    for (char c : value.substr(1, close - 1))
      if (!std::isxdigit(static_cast<unsigned char>(c)) && c != ':' && c != '.') return false;
    h = value.substr(0, close + 1);
    const std::string_view rest = value.substr(close + 1);
    if (!rest.empty()) {
      if (rest.front() != ':') return false;
      p = rest.substr(1);
      if (p.empty()) return false;
    }
  } else {
    const auto colon = value.find(':');
    if (colon != std::string_view::npos) {
      h = value.substr(0, colon);
      p = value.substr(colon + 1);
      if (p.empty()) return false;
    }
    if (h.empty() || h.size() > 253) return false;
    for (char c : h)
      if (!std::isalnum(static_cast<unsigned char>(c)) && c != '-' && c != '.' && c != '_')
        return false;
  }
  if (!p.empty()) {
    if (p.size() > 5 ||
        !std::all_of(p.begin(), p.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return false;
    port = std::stoi(std::string(p));
    if (port > 65535) return false;
  }
  host = lower(h);
  return true;
}

ParseResult parse_request(std::string_view buf, const Limits& limits, Request& out) {
  // Empty lines before a request line are ignored (RFC 9112, 2.2).
  std::size_t start = 0;
  while (start < buf.size() && (buf[start] == '\r' || buf[start] == '\n')) ++start;
  const std::string_view text = buf.substr(start);
  std::size_t end = std::string_view::npos, sep = 0;
  for (std::size_t i = 0; i < text.size(); ++i) {
    if (text[i] != '\n') continue;
    if (i + 1 < text.size() && text[i + 1] == '\n') {
      end = i, sep = 2;
      break;
    }
    if (i + 2 < text.size() && text[i + 1] == '\r' && text[i + 2] == '\n') {
      end = i, sep = 3;
      break;
    }
  }
  if (end == std::string_view::npos) {
    if (text.size() > limits.max_header_bytes)
      return fail(
          431, "request headers larger than " + std::to_string(limits.max_header_bytes) + " bytes");
    return {};
  }
  if (end > limits.max_header_bytes)
    return fail(
        431, "request headers larger than " + std::to_string(limits.max_header_bytes) + " bytes");

  Request req;
  std::vector<std::string_view> lines;
  for (std::size_t at = 0; at <= end;) {
    std::size_t nl = text.find('\n', at);
    if (nl == std::string_view::npos || nl > end) nl = end;
    std::string_view line = text.substr(at, nl - at);
    if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
    if (line.find('\r') != std::string_view::npos) return fail(400, "a bare CR in the headers");
    lines.push_back(line);
    at = nl + 1;
  }
  // the request line: METHOD SP TARGET SP VERSION
  const std::string_view first = lines[0];
  const auto s1 = first.find(' ');
  const auto s2 = s1 == std::string_view::npos ? s1 : first.find(' ', s1 + 1);
  if (s1 == std::string_view::npos || s2 == std::string_view::npos ||
      first.find(' ', s2 + 1) != std::string_view::npos)
    return fail(400, "malformed request line");
  const std::string_view method = first.substr(0, s1), target = first.substr(s1 + 1, s2 - s1 - 1),
                         version = first.substr(s2 + 1);
  if (!is_token(method)) return fail(400, "malformed method");
  if (target.empty() || target.front() != '/' ||
      std::any_of(target.begin(), target.end(),
                  [](char c) { return static_cast<unsigned char>(c) <= 0x20 || c == 0x7f; }))
    return fail(400, "malformed request target");
  if (version.rfind("HTTP/", 0) != 0) return fail(400, "malformed HTTP version");
  if (version != "HTTP/1.1" && version != "HTTP/1.0")
    return fail(505, "HTTP version not supported (HTTP/1.0 and HTTP/1.1 are)");
  req.method = std::string(method);
  req.target = std::string(target);
  req.version = std::string(version);
  req.path = req.target.substr(0, req.target.find('?'));

  for (std::size_t i = 1; i < lines.size(); ++i) {
    const std::string_view line = lines[i];
    if (line.empty()) continue;  // the terminating empty line
    if (line.front() == ' ' || line.front() == '\t')
      return fail(400, "obsolete line folding in the headers");
    const auto colon = line.find(':');
    if (colon == std::string_view::npos) return fail(400, "a header line without a colon");
    const std::string_view name = line.substr(0, colon);
    if (!is_token(name)) return fail(400, "malformed header name");
    const std::string_view value = trim(line.substr(colon + 1));
    for (char c : value)
      if ((static_cast<unsigned char>(c) < 0x20 && c != '\t') || c == 0x7f)
        return fail(400, "a control character in a header value");
    req.headers.emplace_back(lower(name), std::string(value));
  }
  const auto count = [&](std::string_view name) {
    return std::count_if(req.headers.begin(), req.headers.end(),
                         [&](const auto& h) { return h.first == name; });
  };
  const auto hosts = count("host");
  if (hosts > 1) return fail(400, "more than one Host header");
  if (hosts == 0 && req.version == "HTTP/1.1") return fail(400, "no Host header");
  if (hosts == 1) {
    std::string host;
    int port = -1;
    if (!parse_authority(*req.header("host"), host, port))
      return fail(400, "malformed Host header");
  }
  if (count("transfer-encoding") > 0)
    return fail(501, "Transfer-Encoding is not supported; send a Content-Length");
  std::size_t length = 0;
  if (const auto n = count("content-length"); n > 1) {
    return fail(400, "more than one Content-Length header");
  } else if (n == 1) {
    const std::string& v = *req.header("content-length");
    if (v.empty() || v.size() > 18 ||
        !std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; }))
      return fail(400, "malformed Content-Length");
    const unsigned long long len = std::stoull(v);
    if (len > limits.max_body_bytes)
      return fail(413,
                  "request body larger than " + std::to_string(limits.max_body_bytes) + " bytes");
    length = static_cast<std::size_t>(len);
  }
  const std::size_t body_at = start + end + sep;
  if (buf.size() < body_at + length) return {};
  req.body = std::string(buf.substr(body_at, length));
  ParseResult r;
  r.kind = ParseResult::complete;
  r.consumed = body_at + length;
  out = std::move(req);
  return r;
}

// ---- the server -----------------------------------------------------------------------------

namespace {

const char* reason(int status) {
  switch (status) {
    case 200:
      return "OK";
    case 400:
      return "Bad Request";
    case 403:
      return "Forbidden";
    case 404:
      return "Not Found";
    case 405:
      return "Method Not Allowed";
    case 408:
      return "Request Timeout";
    case 413:
      return "Content Too Large";
    case 415:
      return "Unsupported Media Type";
    case 422:
      return "Unprocessable Content";
    case 429:
      return "Too Many Requests";
    case 431:
      return "Request Header Fields Too Large";
    case 500:
      return "Internal Server Error";
    case 501:
      return "Not Implemented";
    case 503:
      return "Service Unavailable";
    case 505:
      return "HTTP Version Not Supported";
    default:
      return status < 400 ? "OK" : "Error";
  }
}

enum class State { reading, handling, writing };

struct Connection {
  int fd = -1;
  std::uint64_t id = 0;
  std::string addr;
  std::string in, out;
  std::size_t out_at = 0;
  State state = State::reading;
  bool started = false;      // a byte of the current request has arrived
  bool close_after = false;  // close once the answer is sent
  bool peer_eof = false;     // the client half-closed (or closed)
  std::size_t served = 0;
  Clock::time_point deadline;
  Clock::time_point since;  // accepted, or its last answer sent (idle order)
};

struct Job {
  std::uint64_t conn;
  Request request;
};

struct Done {
  std::uint64_t conn;
  Response response;
};

}  // namespace

struct Server::Impl {
  Limits limits;
  Handler handler;
  ErrorPage error_page;
  std::vector<std::pair<std::string, std::string>> default_headers;
  int listen_fd = -1;
  int wake_fd = -1;
  std::atomic<bool> stopping{false};

  // Requests for the workers (an empty optional: a worker ends); only the loop's thread pushes.
  BlockingQueue<std::optional<Job>> jobs;
  std::mutex mu;  // done
  std::deque<Done> done;
  std::atomic<bool> workers_stop{false};
  std::vector<std::thread> workers;

  mutable std::mutex stats_mu;
  Stats stats;

  std::map<std::uint64_t, Connection> conns;  // by id: ordered by age
  std::unordered_map<std::string, std::size_t> per_client;
  std::uint64_t next_id = 1;

  void wake() const {
    const std::uint64_t one = 1;
    [[maybe_unused]] const ssize_t n = ::write(wake_fd, &one, sizeof one);
  }

  // Every worker ends at its next request (the requests still queued are dropped): one empty
  // optional per worker, so each finds one.
  void stop_workers() {
    workers_stop = true;
    for (std::size_t i = 0; i < workers.size(); ++i) jobs.push(std::nullopt);
    for (auto& t : workers) t.join();
    workers.clear();
    jobs.clear();
  }

  void work() {
    for (;;) {
      std::optional<Job> next = jobs.pop();
      if (!next || workers_stop) return;
      Job job = std::move(*next);
      Response r;
      try {
        r = handler(job.request);
      } catch (...) {
        r = error_page(500, "internal error");
      }
      {
        std::lock_guard lock(mu);
        done.push_back({job.conn, std::move(r)});
      }
      wake();
    }
  }

  void count(std::size_t Stats::*field) {
    std::lock_guard lock(stats_mu);
    ++(stats.*field);
  }

  std::string serialize(const Response& r, bool close) const {
    std::string s = "HTTP/1.1 " + std::to_string(r.status) + " " + reason(r.status) + "\r\n";
    for (const auto& [k, v] : default_headers) s += k + ": " + v + "\r\n";
    for (const auto& [k, v] : r.headers) s += k + ": " + v + "\r\n";
    if (!r.content_type.empty()) s += "Content-Type: " + r.content_type + "\r\n";
    s += "Content-Length: " + std::to_string(r.body.size()) + "\r\n";
    s += close ? "Connection: close\r\n" : "Connection: keep-alive\r\n";
    s += "\r\n";
    s += r.body;
    return s;
  }

  void close_conn(std::uint64_t id) {
    auto it = conns.find(id);
    if (it == conns.end()) return;
    ::close(it->second.fd);
    if (auto pc = per_client.find(it->second.addr); pc != per_client.end() && --pc->second == 0)
      per_client.erase(pc);
    conns.erase(it);
  }

  void respond(Connection& c, const Response& r) {
    // a client that half-closed after several requests gets an answer to each
    bool more = false;
    if (c.peer_eof && !c.in.empty()) {
      Request next;
      more = parse_request(c.in, limits, next).kind != ParseResult::incomplete;
    }
    const bool close = r.close || c.close_after || (c.peer_eof && !more) ||
                       c.served + 1 >= limits.max_requests_per_connection;
    c.close_after = close;
    c.out = serialize(r, close);
    c.out_at = 0;
    c.state = State::writing;
    c.deadline = Clock::now() + limits.write_deadline;
    count(&Stats::answered);
  }

  void refuse(Connection& c, int status, const std::string& message) {
    Response r = error_page(status, message);
    r.close = true;
    respond(c, r);
  }

  // Parses what has arrived; dispatches a complete request or answers an error.
  void advance(Connection& c) {
    if (c.state != State::reading) return;
    if (c.in.empty()) return;
    Request req;
    const ParseResult pr = parse_request(c.in, limits, req);
    if (pr.kind == ParseResult::incomplete) {
      if (c.peer_eof) c.close_after = true;  // never complete: closed in the loop
      return;
    }
    if (pr.kind == ParseResult::error) {
      c.in.clear();
      refuse(c, pr.status, pr.message);
      return;
    }
    c.in.erase(0, pr.consumed);
    const std::string* conn_header = req.header("connection");
    const std::string conn_value = conn_header ? lower(*conn_header) : "";
    if (conn_value.find("close") != std::string::npos ||
        (req.version == "HTTP/1.0" && conn_value.find("keep-alive") == std::string::npos))
      c.close_after = true;
    req.remote_addr = c.addr;
    // Only this thread pushes, so the queue holds at most max_pending requests.
    if (jobs.size() >= limits.max_pending) {
      Response busy = error_page(503, "the server is busy; try again in a moment");
      busy.headers.emplace_back("Retry-After", "1");
      respond(c, busy);
      return;
    }
    jobs.push(Job{c.id, std::move(req)});
    c.state = State::handling;
  }

  // Makes room for a connection from addr: evicts the oldest idle connection (of that client
  // when it is over its own limit). False when there is none to evict.
  bool make_room(const std::string& addr) {
    const auto held = per_client.find(addr);
    const bool client_full =
        held != per_client.end() && held->second >= limits.max_connections_per_client;
    const bool total_full = conns.size() >= limits.max_connections;
    if (!client_full && !total_full) return true;
    for (auto& [id, c] : conns) {
      const bool idle = c.state == State::reading && !c.started && c.in.empty();
      if (idle && (!client_full || c.addr == addr)) {
        close_conn(id);
        count(&Stats::evicted_idle);
        return make_room(addr);
      }
    }
    return false;
  }

  void accept_all() {
    for (;;) {
      sockaddr_storage sa{};
      socklen_t len = sizeof sa;
      const int fd = ::accept4(listen_fd, reinterpret_cast<sockaddr*>(&sa), &len,
                               SOCK_NONBLOCK | SOCK_CLOEXEC);
      if (fd < 0) return;  // EAGAIN, or out of descriptors: the rest wait in the backlog
      char host[NI_MAXHOST] = {};
      ::getnameinfo(reinterpret_cast<sockaddr*>(&sa), len, host, sizeof host, nullptr, 0,
                    NI_NUMERICHOST);
      const std::string addr = host;
      count(&Stats::accepted);
      int one = 1;
      ::setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
      if (!make_room(addr)) {
        // every connection is busy with a request: refuse this one, without waiting
        const Response r = error_page(503, "too many connections; try again in a moment");
        const std::string text = serialize(r, true);
        [[maybe_unused]] const ssize_t n = ::send(fd, text.data(), text.size(), MSG_NOSIGNAL);
        ::close(fd);
        count(&Stats::refused);
        continue;
      }
      Connection c;
      c.fd = fd;
      c.id = next_id++;
      c.addr = addr;
      c.since = Clock::now();
      c.deadline = c.since + limits.idle_timeout;
      ++per_client[addr];
      conns.emplace(c.id, std::move(c));
    }
  }

  void read_from(Connection& c) {
    char buf[16384];
    for (;;) {
      const ssize_t n = ::recv(c.fd, buf, sizeof buf, 0);
      if (n > 0) {
        if (!c.started) {
          c.started = true;
          c.deadline = Clock::now() + limits.request_deadline;
        }
        c.in.append(buf, static_cast<std::size_t>(n));
        if (c.in.size() > limits.max_header_bytes + limits.max_body_bytes + 4096) break;
        continue;
      }
      if (n == 0)
        c.peer_eof = true;
      else if (errno == EINTR)
        continue;
      else if (errno != EAGAIN && errno != EWOULDBLOCK)
        c.peer_eof = true, c.close_after = true;
      break;
    }
    advance(c);
  }

  // Sends what it can; false when the connection is to be closed.
  bool write_to(Connection& c) {
    while (c.out_at < c.out.size()) {
      const ssize_t n =
          ::send(c.fd, c.out.data() + c.out_at, c.out.size() - c.out_at, MSG_NOSIGNAL);
      if (n > 0) {
        c.out_at += static_cast<std::size_t>(n);
        continue;
      }
      if (n < 0 && errno == EINTR) continue;
      if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) return true;
      return false;
    }
    ++c.served;
    c.out.clear();
    c.out_at = 0;
    if (c.close_after) {
      ::shutdown(c.fd, SHUT_WR);
      return false;
    }
    c.state = State::reading;
    c.since = Clock::now();
    c.started = !c.in.empty();
    c.deadline = c.since + (c.started ? limits.request_deadline : limits.idle_timeout);
    advance(c);  // a pipelined request already here
    if (c.state == State::writing) return write_to(c);
    return !(c.state == State::reading && c.peer_eof);
  }

  void loop(const std::atomic<bool>* stop_flag) {
    std::vector<pollfd> fds;
    std::vector<std::uint64_t> ids;
    while (!stopping && !(stop_flag && stop_flag->load())) {
      // answers from the workers
      std::deque<Done> ready;
      {
        std::lock_guard lock(mu);
        ready.swap(done);
      }
      for (auto& d : ready) {
        auto it = conns.find(d.conn);
        if (it == conns.end() || it->second.state != State::handling) continue;
        respond(it->second, d.response);
        if (!write_to(it->second)) close_conn(d.conn);
      }
      // deadlines
      const auto now = Clock::now();
      auto next = now + std::chrono::milliseconds(100);
      std::vector<std::uint64_t> expired;
      for (auto& [id, c] : conns) {
        if (c.state == State::handling) continue;
        if (c.state == State::reading && c.close_after && c.in.empty()) {
          expired.push_back(id);
          continue;
        }
        if (c.deadline <= now) {
          expired.push_back(id);
          if (c.state == State::reading && c.started) count(&Stats::timed_out);
          continue;
        }
        next = std::min(next, c.deadline);
      }
      for (std::uint64_t id : expired) {
        auto it = conns.find(id);
        if (it == conns.end()) continue;
        Connection& c = it->second;
        if (c.state == State::reading && c.started && !c.peer_eof) {
          refuse(c, 408, "the request took too long to arrive");
          if (write_to(c)) continue;  // the rest of the answer is sent under the write deadline
        }
        close_conn(id);
      }
      fds.clear();
      ids.clear();
      fds.push_back({listen_fd, POLLIN, 0});
      fds.push_back({wake_fd, POLLIN, 0});
      for (auto& [id, c] : conns) {
        short ev = 0;
        if (c.state == State::reading && !c.peer_eof) ev = POLLIN;
        if (c.state == State::writing) ev = POLLOUT;
        if (ev == 0) continue;
        fds.push_back({c.fd, ev, 0});
        ids.push_back(id);
      }
      const auto wait = std::chrono::duration_cast<std::chrono::milliseconds>(next - now).count();
      const int n = ::poll(fds.data(), fds.size(), static_cast<int>(std::max<long long>(1, wait)));
      if (n <= 0) continue;
      if (fds[1].revents & POLLIN) {
        std::uint64_t v;
        [[maybe_unused]] const ssize_t r = ::read(wake_fd, &v, sizeof v);
      }
      for (std::size_t i = 2; i < fds.size(); ++i) {
        if (fds[i].revents == 0) continue;
        auto it = conns.find(ids[i - 2]);
        if (it == conns.end()) continue;
        Connection& c = it->second;
        bool keep = true;
        if (c.state == State::reading && (fds[i].revents & (POLLIN | POLLHUP | POLLERR))) {
          read_from(c);
          if (c.state == State::writing)
            keep = write_to(c);
          else if (c.state == State::reading && c.peer_eof)
            keep = false;
        } else if (c.state == State::writing && (fds[i].revents & (POLLOUT | POLLHUP | POLLERR))) {
          keep = (fds[i].revents & POLLERR) == 0 && write_to(c);
        }
        if (!keep) close_conn(ids[i - 2]);
      }
      if (fds[0].revents & POLLIN) accept_all();
    }
  }
};

Server::Server(Limits limits, Handler handler, ErrorPage error_page,
               std::vector<std::pair<std::string, std::string>> default_headers)
    : impl_(std::make_unique<Impl>()) {
  impl_->limits = limits;
  impl_->handler = std::move(handler);
  impl_->error_page = std::move(error_page);
  impl_->default_headers = std::move(default_headers);
  impl_->wake_fd = ::eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
  if (impl_->wake_fd < 0) throw std::runtime_error("cannot create an eventfd");
}

Server::~Server() {
  if (impl_->listen_fd >= 0) ::close(impl_->listen_fd);
  ::close(impl_->wake_fd);
}

int Server::bind(const std::string& host, int port) {
  Impl& s = *impl_;
  addrinfo hints{};
  hints.ai_family = AF_UNSPEC;
  hints.ai_socktype = SOCK_STREAM;
  hints.ai_flags = AI_PASSIVE | AI_NUMERICSERV;
  addrinfo* res = nullptr;
  const std::string service = std::to_string(port);
  if (::getaddrinfo(host.c_str(), service.c_str(), &hints, &res) != 0 || res == nullptr)
    throw std::runtime_error("cannot resolve " + host);
  int fd = -1;
  for (addrinfo* ai = res; ai != nullptr && fd < 0; ai = ai->ai_next) {
    fd = ::socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
    if (fd < 0) continue;
    // SO_REUSEADDR only: SO_REUSEPORT would let a second server share the port.
    int yes = 1;
    ::setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &yes, sizeof yes);
    if (::bind(fd, ai->ai_addr, ai->ai_addrlen) != 0 || ::listen(fd, 128) != 0) {
      ::close(fd);
      fd = -1;
    }
  }
  ::freeaddrinfo(res);
  if (fd < 0)
    throw std::runtime_error("cannot listen on " + host + ":" + std::to_string(port) +
                             " (address in use or not available)");
  sockaddr_storage sa{};
  socklen_t len = sizeof sa;
  ::getsockname(fd, reinterpret_cast<sockaddr*>(&sa), &len);
  const int bound = sa.ss_family == AF_INET6
                        ? ntohs(reinterpret_cast<sockaddr_in6*>(&sa)->sin6_port)
                        : ntohs(reinterpret_cast<sockaddr_in*>(&sa)->sin_port);
  s.listen_fd = fd;
  return bound;
}

void Server::run(const std::atomic<bool>* stop_flag) {
  Impl& s = *impl_;
  if (s.listen_fd < 0) throw std::logic_error("http::Server::run before bind");
  s.workers_stop = false;
  for (std::size_t i = 0; i < std::max<std::size_t>(1, s.limits.workers); ++i)
    s.workers.emplace_back([&s] { s.work(); });
  try {
    s.loop(stop_flag);
  } catch (...) {
    // fall through to the shutdown below, then report
    s.stop_workers();
    throw;
  }
  while (!s.conns.empty()) s.close_conn(s.conns.begin()->first);
  s.stop_workers();
  s.done.clear();
}

void Server::stop() {
  impl_->stopping = true;
  impl_->wake();
}

Stats Server::stats() const {
  std::lock_guard lock(impl_->stats_mu);
  return impl_->stats;
}

}  // namespace cm::http
