// The workshop's HTTP server under slow, idle and malformed clients (engine/http_server.hpp):
// strict parsing, a deadline per whole request, connection limits with idle eviction,
// pipelining and half-closed clients. Everything runs on 127.0.0.1, bounded in connections
// (at most 89 at once) and in time (each test under 15 s).
#include <arpa/inet.h>
#include <fcntl.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <future>
#include <iostream>
#include <string>
#include <thread>
#include <vector>

#include "engine/http_server.hpp"
#include "models/socialcare/workshop/workshop.hpp"

using namespace cm::care::workshop;
namespace http = cm::http;
using Clock = std::chrono::steady_clock;

namespace {

const std::string kTraining = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";

int connect_to(int port) {
  const int fd = ::socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) return -1;
  timeval tv{10, 0};
  ::setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
  ::setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_port = htons(static_cast<std::uint16_t>(port));
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  if (::connect(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    ::close(fd);
    return -1;
  }
  return fd;
}

void send_text(int fd, const std::string& s) {
  std::size_t at = 0;
  while (at < s.size()) {
    const ssize_t n = ::send(fd, s.data() + at, s.size() - at, MSG_NOSIGNAL);
    if (n <= 0) return;
    at += static_cast<std::size_t>(n);
  }
}

std::string read_until_closed(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

// The statuses of the answers in text, in order (each read by its Content-Length).
std::vector<int> statuses(const std::string& text) {
  std::vector<int> v;
  std::size_t at = 0;
  while (text.compare(at, 7, "HTTP/1.") == 0) {
    v.push_back(std::stoi(text.substr(at + 9, 3)));
    const auto head_end = text.find("\r\n\r\n", at);
    if (head_end == std::string::npos) break;
    const auto cl = text.find("Content-Length: ", at);
    const std::size_t len = cl < head_end ? std::stoul(text.substr(cl + 16)) : 0;
    at = head_end + 4 + len;
  }
  return v;
}

int status_of(int port, const std::string& request) {
  const int fd = connect_to(port);
  if (fd < 0) return -1;
  send_text(fd, request);
  const auto v = statuses(read_until_closed(fd));
  ::close(fd);
  return v.empty() ? 0 : v.front();
}

const Workshop& workshop() {
  static const Workshop w(kTraining, [] {
    WorkshopOptions o;
    o.replications = 1;
    return o;
  }());
  return w;
}

struct Running {
  WorkshopServer server;
  int port;
  std::future<void> done;
  explicit Running(ServerOptions o) : server(workshop(), std::move(o)), port(server.bind()) {
    done = std::async(std::launch::async, [this] { server.run(); });
  }
  ~Running() {
    server.stop();
    done.wait();
  }
};

ServerOptions options() {
  ServerOptions o;
  o.port = 0;
  o.rate_burst = 1000;
  o.rate_per_second = 1000;
  return o;
}

std::string get(const std::string& path, const std::string& extra = "Connection: close\r\n") {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\n" + extra + "\r\n";
}

http::ParseResult parse(const std::string& text, http::Request* out = nullptr) {
  http::Request r;
  const auto res = http::parse_request(text, http::Limits{}, r);
  if (out) *out = r;
  return res;
}

}  // namespace

TEST(HttpParsing, RefusesWhatEarlierVersionsAccepted) {
  const auto expect_error = [](const std::string& text, int status, const std::string& phrase) {
    const auto r = parse(text);
    EXPECT_EQ(r.kind, http::ParseResult::error) << text;
    EXPECT_EQ(r.status, status) << text;
    EXPECT_NE(r.message.find(phrase), std::string::npos) << r.message;
  };
  expect_error("GET / HTTP/1.1\r\n\r\n", 400, "no Host header");
  expect_error("GET / HTTP/1.1\r\nHost: a\r\nHost: b\r\n\r\n", 400, "more than one Host");
  expect_error("GET / HTTP/1.1\r\nHost: 127.0.0.1:8080@evil.example\r\n\r\n", 400,
               "malformed Host");
  expect_error("GET / HTTP/1.1\r\nHost: 127.0.0.1/x\r\n\r\n", 400, "malformed Host");
  expect_error("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nnot a header\r\n\r\n", 400, "without a colon");
  expect_error("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Name: x\r\n\r\n", 400,
               "malformed header name");
  expect_error("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\r\n  folded\r\n\r\n", 400,
               "obsolete line folding");
  expect_error(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 3\r\n\r\nab", 400,
      "more than one Content-Length");
  expect_error(
      "POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 2\r\nContent-Length: 2\r\n\r\nab", 400,
      "more than one Content-Length");
  expect_error("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: -1\r\n\r\n", 400,
               "malformed Content-Length");
  expect_error("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nTransfer-Encoding: chunked\r\n\r\n", 501,
               "Transfer-Encoding");
  expect_error("POST / HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: 99999\r\n\r\n", 413,
               "larger than");
  expect_error("GET / HTTP/2.0\r\nHost: 127.0.0.1\r\n\r\n", 505, "not supported");
  expect_error("GET  / HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n", 400, "request line");
  expect_error("GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: a\x01z\r\n\r\n", 400, "control");
  expect_error("GET / HTTP/1.1\r\nHost: 127.0.0.1\rX: y\r\n\r\n", 400, "bare CR");
  expect_error("GET / HTTP/1.1\r\nX: " + std::string(20000, 'h'), 431, "headers larger");
}

TEST(HttpParsing, ParsesCompleteRequestsAndWaitsForIncompleteOnes) {
  http::Request r;
  const std::string two =
      "POST /api/compare?x=1 HTTP/1.1\r\nHost: [::1]:8080\r\nContent-Length: 3"
      "\r\nX-Empty:\r\n\r\nabcGET / HTTP/1.0\r\n\r\n";
  auto res = parse(two, &r);
  ASSERT_EQ(res.kind, http::ParseResult::complete) << res.message;
  EXPECT_EQ(r.method, "POST");
  EXPECT_EQ(r.path, "/api/compare");
  EXPECT_EQ(r.body, "abc");
  EXPECT_EQ(r.header_or("host"), "[::1]:8080");
  EXPECT_EQ(r.header_or("x-empty", "absent"), "");
  res = parse(two.substr(res.consumed), &r);  // the pipelined second request (HTTP/1.0: no Host)
  ASSERT_EQ(res.kind, http::ParseResult::complete) << res.message;
  EXPECT_EQ(r.version, "HTTP/1.0");
  EXPECT_EQ(parse("GET / HTTP/1.1\r\nHost: 127.0.").kind, http::ParseResult::incomplete);
  EXPECT_EQ(parse("POST / HTTP/1.1\r\nHost: a\r\nContent-Length: 5\r\n\r\nab").kind,
            http::ParseResult::incomplete);
}

TEST(HttpParsing, AuthoritiesAreParsedNotCut) {
  std::string host;
  int port = 0;
  EXPECT_TRUE(http::parse_authority("127.0.0.1:8080", host, port));
  EXPECT_EQ(host, "127.0.0.1");
  EXPECT_EQ(port, 8080);
  EXPECT_TRUE(http::parse_authority("LocalHost", host, port));
  EXPECT_EQ(host, "localhost");
  EXPECT_EQ(port, -1);
  EXPECT_TRUE(http::parse_authority("[::1]:1", host, port));
  EXPECT_EQ(host, "[::1]");
  for (const char* bad : {"127.0.0.1:8080@evil.example", "evil.example@127.0.0.1",
                          "127.0.0.1:", "127.0.0.1:99999", "127.0.0.1:80:80", "[::1", "[::1]x",
                          "a b", "", "127.0.0.1/", "127.0.0.1?x", "127.0.0.1#x", "[zz::1]"})
    EXPECT_FALSE(http::parse_authority(bad, host, port)) << bad;
}

// Over the wire: the cases of issue 21 against the workshop server.
TEST(WorkshopHttp, StrictParsingAndTheHostAndOriginChecks) {
  Running s(options());
  const int p = s.port;
  const std::string port = std::to_string(p);
  EXPECT_EQ(status_of(p, get("/api/status")), 200);
  EXPECT_EQ(status_of(p, "GET /api/status HTTP/1.1\r\nConnection: close\r\n\r\n"), 400);
  EXPECT_EQ(status_of(p, "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1:" + port +
                             "@evil.example\r\nConnection: close\r\n\r\n"),
            400);
  EXPECT_EQ(status_of(p, get("/api/status", "Connection: close\r\nno colon here\r\n")), 400);
  EXPECT_EQ(status_of(p,
                      "POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: "
                      "application/json\r\nContent-Length: 2\r\nContent-Length: 20\r\n\r\n{}"),
            400);
  // Origin: parsed and compared with Host, not prefixed
  EXPECT_EQ(status_of(p, get("/api/status", "Connection: close\r\nOrigin: http://127.0.0.1\r\n")),
            200);
  EXPECT_EQ(status_of(p, get("/api/status", "Connection: close\r\nOrigin: http://127.0.0.1:" +
                                                port + "@evil.example\r\n")),
            403);
  EXPECT_EQ(
      status_of(p, get("/api/status", "Connection: close\r\nOrigin: http://evil.example\r\n")),
      403);
  EXPECT_EQ(status_of(p, get("/api/compare")), 405);
}

// Three requests in one write are answered in order on the same connection; a client that
// half-closes after sending its requests still gets every answer (earlier: only the first,
// and a half-closed client usually none).
TEST(WorkshopHttp, PipelinedRequestsAndHalfClosedClientsAreAnswered) {
  Running s(options());
  int fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  send_text(fd, get("/api/status", "") + get("/no/such/page", "") + get("/api/levers"));
  EXPECT_EQ(statuses(read_until_closed(fd)), (std::vector<int>{200, 404, 200}));
  ::close(fd);

  fd = connect_to(s.port);
  ASSERT_GE(fd, 0);
  send_text(fd, get("/api/status", "") + get("/api/levers", ""));
  ::shutdown(fd, SHUT_WR);
  EXPECT_EQ(statuses(read_until_closed(fd)), (std::vector<int>{200, 200}));
  ::close(fd);
}

// 8 clients trickle a header byte every 100 ms and 80 connect and send nothing, all at once,
// while a probe asks GET /api/status every 100 ms: every probe is answered 200 within a second.
// The trickling clients are answered 408 and dropped when the whole-request deadline (2 s here)
// passes, however steadily they trickle. Earlier, 8 trickling clients held every connection
// thread for as long as they trickled, and 80 idle ones denied service for more than 12 s.
TEST(WorkshopHttp, SlowAndIdleClientsDoNotDelayAProbe) {
  ServerOptions o = options();
  o.http_threads = 8;
  o.read_timeout_seconds = 2;
  o.keep_alive_seconds = 5;
  o.max_connections_per_client = 128;  // hold them all: the probe is answered beside them
  Running s(o);
  const auto t0 = Clock::now();
  std::vector<int> idle, slow;
  for (int i = 0; i < 80; ++i) idle.push_back(connect_to(s.port));
  for (int i = 0; i < 8; ++i) slow.push_back(connect_to(s.port));
  for (int fd : idle) ASSERT_GE(fd, 0);
  for (int fd : slow) ASSERT_GE(fd, 0);
  const std::string trickle =
      "GET /api/status HTTP/1.1\r\nHost: 127.0.0.1\r\nX-Slow: " + std::string(200, 'z');
  std::vector<double> latencies;
  std::vector<Clock::time_point> slow_closed(slow.size());
  std::size_t sent = 0;
  const auto end = t0 + std::chrono::milliseconds(3500);
  while (Clock::now() < end) {
    for (std::size_t i = 0; i < slow.size(); ++i) {
      if (slow_closed[i] != Clock::time_point{}) continue;
      pollfd pfd{slow[i], POLLIN, 0};
      if (::poll(&pfd, 1, 0) > 0) {  // the server answered: stop trickling (no reset)
        slow_closed[i] = Clock::now();
        continue;
      }
      if (sent < trickle.size()) send_text(slow[i], std::string(1, trickle[sent]));
    }
    ++sent;
    const auto p0 = Clock::now();
    EXPECT_EQ(status_of(s.port, get("/api/status")), 200);
    latencies.push_back(std::chrono::duration<double>(Clock::now() - p0).count());
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  }
  const double worst = *std::max_element(latencies.begin(), latencies.end());
  EXPECT_LT(worst, 1.0);
  int answered_408 = 0;
  for (std::size_t i = 0; i < slow.size(); ++i) {
    const std::string text = read_until_closed(slow[i]);
    if (!statuses(text).empty() && statuses(text).front() == 408) ++answered_408;
    EXPECT_NE(slow_closed[i], Clock::time_point{}) << "a trickling client outlived the deadline";
    if (slow_closed[i] != Clock::time_point{}) {
      EXPECT_LT(slow_closed[i] - t0, std::chrono::milliseconds(3200));
    }
    ::close(slow[i]);
  }
  EXPECT_EQ(answered_408, 8);
  for (int fd : idle) ::close(fd);
  const auto st = s.server.stats();
  std::cout << "[ measured ] 80 idle + 8 trickling connections; " << latencies.size()
            << " probes, slowest " << worst * 1000 << " ms; " << st.timed_out
            << " requests timed out (408), " << st.evicted_idle << " idle evicted, " << st.refused
            << " refused\n";
}

// Over the per-client limit, a new connection evicts that client's oldest idle connection; when
// all of its connections are busy with requests under way, it is refused with 503 at once.
TEST(WorkshopHttp, ConnectionLimitsEvictIdleConnectionsFirst) {
  ServerOptions o = options();
  o.max_connections_per_client = 4;
  o.read_timeout_seconds = 5;
  o.keep_alive_seconds = 5;
  Running s(o);
  std::vector<int> held;
  for (int i = 0; i < 4; ++i) held.push_back(connect_to(s.port));
  std::this_thread::sleep_for(std::chrono::milliseconds(100));
  EXPECT_EQ(status_of(s.port, get("/api/status")), 200);  // evicts an idle one
  EXPECT_GE(s.server.stats().evicted_idle, 1u);
  for (int fd : held) ::close(fd);
  held.clear();
  for (int i = 0; i < 4; ++i) {
    held.push_back(connect_to(s.port));
    send_text(held.back(), "GET /api/status HTTP/1.1\r\nHost: 127.");  // under way
  }
  std::this_thread::sleep_for(std::chrono::milliseconds(200));
  const auto t0 = Clock::now();
  EXPECT_EQ(status_of(s.port, get("/api/status")), 503);
  EXPECT_LT(Clock::now() - t0, std::chrono::seconds(1));
  for (int fd : held) ::close(fd);
}
