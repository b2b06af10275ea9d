// Workshop mode (models/socialcare/workshop/workshop.hpp): levers → overrides → a valid design,
// request validation on the handler functions, the comparison (common random numbers, cache), and a
// loopback server on 127.0.0.1 with an ephemeral port: good requests, garbage bytes, an
// oversized body, a stalled client, a burst beyond the rate limit (429), and a clean stop.
#include <arpa/inet.h>
#include <gtest/gtest.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <unistd.h>

#include <chrono>
#include <cmath>
#include <future>
#include <nlohmann/json.hpp>
#include <string>
#include <thread>
#include <vector>

#include "engine/yaml_reader.hpp"
#include "models/socialcare/metrics.hpp"
#include "models/socialcare/scenario_loader.hpp"
#include "models/socialcare/simulation.hpp"
#include "models/socialcare/workshop/workshop.hpp"

namespace {

using namespace cm::care;
using namespace cm::care::workshop;
using Json = nlohmann::json;

const std::string kTraining = std::string(CAREMESH_SCENARIO_DIR) + "/training-small.yaml";

// One workshop for every test: 2 replications keep each comparison near 50 ms.
const Workshop& shared_workshop() {
  static const Workshop w(kTraining, [] {
    WorkshopOptions o;
    o.replications = 2;
    return o;
  }());
  return w;
}

HttpReply post(const Workshop& w, const std::string& body,
               const std::string& type = "application/json") {
  return handle_compare(w, body, type);
}

std::string error_code(const HttpReply& r) {
  const Json j = Json::parse(r.body, nullptr, false);
  if (j.is_discarded() || !j.contains("error")) return "(not a JSON error: " + r.body + ")";
  return j["error"]["code"].get<std::string>();
}

std::uint64_t run_hash(const Scenario& sc, std::uint64_t seed) {
  Simulation sim(sc, seed);
  sim.run(sc.horizon_days);
  sim.finish();
  return sim.state_hash();
}

// ---- lever definitions and mapping ---------------------------------------------------------

TEST(Workshop, LeverDefinitionsAndDefaultsComeFromTheNetworkedVariant) {
  const Workshop& w = shared_workshop();
  EXPECT_EQ(w.design_variant(), "networked");
  EXPECT_EQ(w.base_seed(), 7u);
  const auto defs = w.lever_definitions();
  std::vector<std::string> names;
  for (const auto& l : defs["levers"]) {
    names.push_back(l["name"]);
    EXPECT_TRUE(l.contains("default")) << l.dump();
    EXPECT_FALSE(l["sets"].get<std::string>().empty()) << l.dump();
  }
  EXPECT_EQ(names, (std::vector<std::string>{"max_level", "coordinator", "governance",
                                             "collaboration_share", "tie_cost_factor",
                                             "awareness_other", "awareness_coordinator"}));
  const Levers& d = w.defaults();
  EXPECT_EQ(d.max_level, 7);
  EXPECT_TRUE(d.coordinator);
  EXPECT_EQ(d.governance, Governance::lead_organization);
  EXPECT_DOUBLE_EQ(d.collaboration_share, 6.0 / 80.0);  // 6 h/day of OPS Town's 10 x 8 h
  EXPECT_DOUBLE_EQ(d.tie_cost_factor, 1.0);
  EXPECT_DOUBLE_EQ(d.awareness_other, 0.1);
  EXPECT_DOUBLE_EQ(d.awareness_coordinator, 0.7);
}

TEST(Workshop, DefaultLeversReproduceTheNetworkedVariantExactly) {
  const Workshop& w = shared_workshop();
  const Scenario design = w.design_scenario(w.defaults());
  const Scenario variant = load_scenario(kTraining, LoadOptions{"networked", {}});
  EXPECT_EQ(run_hash(design, 7), run_hash(variant, 7));
}

TEST(Workshop, LeversMapToTheDocumentedScenarioParameters) {
  const Workshop& w = shared_workshop();
  const Scenario base = load_scenario(kTraining, LoadOptions{"networked", {}});
  Levers l = w.defaults();
  l.max_level = 2;
  l.governance = Governance::nao;
  l.collaboration_share = 0.1;
  l.tie_cost_factor = 2.0;
  l.awareness_other = 0.4;
  l.awareness_coordinator = 0.95;
  const Scenario sc = w.design_scenario(l);
  EXPECT_EQ(sc.tie_policy.max_level, 2);
  EXPECT_EQ(sc.tie_policy.initial_level, 1);
  EXPECT_EQ(sc.tie_policy.initial_level_members, 2);  // 4 in the variant, capped at max_level
  EXPECT_EQ(sc.tie_policy.min_level_members, 2);      // 3 in the variant, capped
  ASSERT_EQ(sc.networks.size(), 1u);
  const NetworkDef& net = sc.networks[0];
  EXPECT_EQ(net.governance, Governance::nao);
  ASSERT_GE(net.coordinator, 0);
  EXPECT_EQ(sc.organizations[net.coordinator].name, "OPS Town");
  EXPECT_DOUBLE_EQ(net.coordinator_hours_per_day, 8.0);  // 0.1 x 10 helpers x 8 h
  EXPECT_EQ(net.members.size(), sc.organizations.size());
  EXPECT_TRUE(net.formal_agreements);
  EXPECT_DOUBLE_EQ(net.animation, 0.2);
  for (int k = 0; k < kLevels; ++k)
    EXPECT_DOUBLE_EQ(sc.ties.cost_hours_per_week[k], 2.0 * base.ties.cost_hours_per_week[k]);
  EXPECT_DOUBLE_EQ(sc.population.awareness_other, 0.4);
  EXPECT_DOUBLE_EQ(sc.population.awareness_coordinator, 0.95);

  l.coordinator = false;
  l.governance = Governance::shared;
  const Scenario shared = w.design_scenario(l);
  EXPECT_EQ(shared.networks[0].governance, Governance::shared);
  EXPECT_EQ(shared.networks[0].coordinator, -1);

  // the overrides are plain (path, YAML value) pairs a user could pass with --set
  const auto sets = w.overrides(w.defaults());
  ASSERT_GE(sets.size(), 2u);
  EXPECT_EQ(sets[0].first, "tie_policy");
  EXPECT_EQ(sets[1].first, "networks");
}

TEST(Workshop, EveryLeverCombinationAtTheRangeEndsBuildsAValidScenario) {
  const Workshop& w = shared_workshop();
  for (int level = 0; level <= kMaxLevel; ++level)
    for (Governance g : {Governance::shared, Governance::lead_organization, Governance::nao})
      for (double share : {0.0, 0.5})
        for (double factor : {0.25, 4.0})
          for (double aware : {0.0, 1.0}) {
            Levers l;
            l.max_level = level;
            l.governance = g;
            l.coordinator = g != Governance::shared;
            l.collaboration_share = share;
            l.tie_cost_factor = factor;
            l.awareness_other = aware;
            l.awareness_coordinator = 1.0 - aware;
            EXPECT_NO_THROW((void)w.design_scenario(l))
                << "level " << level << " governance " << static_cast<int>(g);
          }
}

// ---- validation of requests ----------------------------------------------------------------

TEST(Workshop, ParseLeversRefusesEveryMalformedValue) {
  const Workshop& w = shared_workshop();
  struct Case {
    const char* body;
    int status;
    const char* code;
    const char* lever;
  };
  const Case cases[] = {
      {R"({"max_level": 8})", 422, "out_of_range", "max_level"},
      {R"({"max_level": -1})", 422, "out_of_range", "max_level"},
      {R"({"max_level": 2.5})", 422, "wrong_type", "max_level"},
      {R"({"max_level": "2"})", 422, "wrong_type", "max_level"},
      {R"({"max_level": true})", 422, "wrong_type", "max_level"},
      {R"({"max_level": null})", 422, "wrong_type", "max_level"},
      {R"({"max_level": 1e308})", 422, "out_of_range", "max_level"},
      {R"({"coordinator": 1})", 422, "wrong_type", "coordinator"},
      {R"({"coordinator": "yes"})", 422, "wrong_type", "coordinator"},
      {R"({"governance": "anarchy"})", 422, "out_of_range", "governance"},
      {R"({"governance": 2})", 422, "wrong_type", "governance"},
      {R"({"collaboration_share": 0.51})", 422, "out_of_range", "collaboration_share"},
      {R"({"collaboration_share": -0.0001})", 422, "out_of_range", "collaboration_share"},
      {R"({"tie_cost_factor": 0.2})", 422, "out_of_range", "tie_cost_factor"},
      {R"({"tie_cost_factor": 4.01})", 422, "out_of_range", "tie_cost_factor"},
      {R"({"awareness_other": 1.5})", 422, "out_of_range", "awareness_other"},
      {R"({"awareness_coordinator": -1})", 422, "out_of_range", "awareness_coordinator"},
      {R"({"maxlevel": 2})", 422, "unknown_lever", "maxlevel"},
      {R"({"coordinator": false, "governance": "lead_organization"})", 422, "inconsistent",
       "coordinator"},
      {R"({"coordinator": true, "governance": "shared"})", 422, "inconsistent", "coordinator"},
      {R"([1, 2])", 400, "not_an_object", ""},
      {R"("levers")", 400, "not_an_object", ""},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body);
    try {
      (void)w.parse_levers(Json::parse(c.body));
      ADD_FAILURE() << "accepted";
    } catch (const LeverError& e) {
      EXPECT_EQ(e.status(), c.status);
      EXPECT_EQ(e.code(), c.code);
      EXPECT_EQ(e.lever(), c.lever);
      EXPECT_FALSE(std::string(e.what()).empty());
    }
  }
}

TEST(Workshop, ParseLeversFillsDefaultsAndKeepsCoordinatorAndGovernanceConsistent) {
  const Workshop& w = shared_workshop();
  Levers l = w.parse_levers(Json::parse(R"({})"));
  EXPECT_EQ(l.max_level, 7);
  l = w.parse_levers(Json::parse(R"({"coordinator": false})"));
  EXPECT_EQ(l.governance, Governance::shared);
  l = w.parse_levers(Json::parse(R"({"governance": "nao"})"));
  EXPECT_TRUE(l.coordinator);
  l = w.parse_levers(Json::parse(R"({"governance": "shared"})"));
  EXPECT_FALSE(l.coordinator);
  l = w.parse_levers(Json::parse(R"({"max_level": 2.0, "awareness_other": 0})"));
  EXPECT_EQ(l.max_level, 2);
  EXPECT_EQ(l.awareness_other, 0.0);
}

TEST(Workshop, HandleCompareAnswersMalformedRequestsWithJsonErrors) {
  const Workshop& w = shared_workshop();
  struct Case {
    std::string body, type;
    int status;
    std::string code;
  };
  std::string deep(5000, '[');
  deep += std::string(5000, ']');
  std::string deep_object;
  for (int i = 0; i < 2000; ++i) deep_object += "{\"a\":";
  deep_object += "1" + std::string(2000, '}');
  const std::vector<Case> cases = {
      {"", "application/json", 400, "bad_json"},
      {"{", "application/json", 400, "bad_json"},
      {"{\"max_level\": }", "application/json", 400, "bad_json"},
      {"{\"max_level\": NaN}", "application/json", 400, "bad_json"},
      {std::string("\x00\xff\xfe garbage \x01", 14), "application/json", 400, "bad_json"},
      {"{\"max_level\": 2} trailing", "application/json", 400, "bad_json"},
      {deep, "application/json", 422, "wrong_type"},
      {deep_object, "application/json", 422, "wrong_type"},
      {"{\"max_level\": [2]}", "application/json", 422, "wrong_type"},
      {"{\"max_level\": {\"v\": 2}}", "application/json", 422, "wrong_type"},
      {"{\"max_level\": 99}", "application/json", 422, "out_of_range"},
      {"{\"x\": 1}", "application/json", 422, "unknown_lever"},
      {"{\"max_level\": 2}", "text/plain", 415, "unsupported_media_type"},
      {"{\"max_level\": 2}", "", 415, "unsupported_media_type"},
      {"{\"max_level\": 2, \"pad\": \"" + std::string(kMaxBodyBytes, 'x') + "\"}",
       "application/json", 413, "body_too_large"},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(c.body.substr(0, 40) + " / " + c.type);
    const HttpReply r = post(w, c.body, c.type);
    EXPECT_EQ(r.status, c.status) << r.body;
    EXPECT_EQ(error_code(r), c.code);
    EXPECT_EQ(r.content_type, "application/json");
  }
  // parameters of the media type are allowed
  EXPECT_EQ(post(w, "{\"max_level\": 7}", "application/json; charset=utf-8").status, 200);
}

// ---- the comparison ------------------------------------------------------------------------

TEST(Workshop, CompareRunsBothDesignsWithTheSameSeedsAndReportsTheirDifference) {
  const Workshop& w = shared_workshop();
  const HttpReply r7 = post(w, R"({"max_level": 7})");
  ASSERT_EQ(r7.status, 200) << r7.body;
  const Json a = Json::parse(r7.body);
  EXPECT_EQ(a["seeds"], Json::parse("[7, 8]"));
  EXPECT_EQ(a["replications"], 2);
  for (const auto& m : a["metrics"]) {
    const std::string name = m["name"];
    ASSERT_TRUE(a["baseline"].contains(name)) << name;
    if (a["baseline"][name].is_number() && a["design"][name].is_number() &&
        a["difference"][name].is_number()) {
      EXPECT_NEAR(a["difference"][name].get<double>(),
                  a["design"][name].get<double>() - a["baseline"][name].get<double>(), 1e-9)
          << name;
    }
  }
  // the networked design adds collaboration: ties above the fragmented level 1-2
  EXPECT_GT(a["design"]["mean_tie_level"].get<double>(),
            a["baseline"]["mean_tie_level"].get<double>());

  const HttpReply r2 = post(w, R"({"max_level": 2})");
  ASSERT_EQ(r2.status, 200) << r2.body;
  const Json b = Json::parse(r2.body);
  EXPECT_EQ(a["baseline"], b["baseline"]);  // the baseline does not depend on the levers
  EXPECT_NE(a["design"], b["design"]);
  EXPECT_LE(b["design"]["mean_tie_level"].get<double>(), 2.0);

  // the same levers again: the same numbers, from the cache
  const Json again = Json::parse(post(w, R"({"max_level": 2})").body);
  EXPECT_TRUE(again["cached"].get<bool>());
  EXPECT_EQ(again["design"], b["design"]);
}

TEST(Workshop, CompareIsDeterministicAcrossWorkshops) {
  WorkshopOptions o;
  o.replications = 2;
  o.cache_entries = 0;
  o.threads = 1;
  const Workshop w1(kTraining, o);
  const Levers l = w1.parse_levers(Json::parse(R"({"max_level": 4, "coordinator": false})"));
  const auto a = w1.compare(l);
  const auto b = shared_workshop().compare(l);
  EXPECT_EQ(a["design"], b["design"]);
  EXPECT_EQ(a["baseline"], b["baseline"]);
}

TEST(Workshop, BusyWorkshopAnswers503InsteadOfQueueingWithoutBound) {
  WorkshopOptions o;
  o.replications = 2;
  o.cache_entries = 0;
  o.max_concurrent_runs = 1;
  o.max_waiting_runs = 0;
  const Workshop w(kTraining, o);
  std::vector<std::future<int>> results;
  for (int i = 0; i < 4; ++i)
    results.push_back(std::async(std::launch::async, [&w, i] {
      return post(w, "{\"max_level\": " + std::to_string(i + 3) + "}").status;
    }));
  int ok = 0;
  for (auto& f : results) {
    const int status = f.get();
    EXPECT_TRUE(status == 200 || status == 503) << status;
    ok += status == 200;
  }
  EXPECT_GE(ok, 1);
}

TEST(Workshop, IndexPageIsSelfContained) {
  const HttpReply r = handle_index(shared_workshop());
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.content_type.find("text/html"), std::string::npos);
  EXPECT_NE(r.body.find("<svg"), std::string::npos);
  EXPECT_NE(r.body.find("/api/compare"), std::string::npos);
  // no external resource: the only absolute URL is the SVG namespace name
  std::string rest = r.body;
  for (std::size_t p = rest.find("http"); p != std::string::npos; p = rest.find("http", p + 1))
    EXPECT_EQ(rest.compare(p, 26, "http://www.w3.org/2000/svg"), 0) << rest.substr(p, 60);
  EXPECT_EQ(r.body.find("src="), std::string::npos);
}

// ---- a loopback server ---------------------------------------------------------------------

// A blocking client socket to 127.0.0.1:port with 10 s send/receive timeouts.
int connect_loopback(int port) {
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

void send_all(int fd, const std::string& data) {
  std::size_t sent = 0;
  while (sent < data.size()) {
    const ssize_t n = ::send(fd, data.data() + sent, data.size() - sent, MSG_NOSIGNAL);
    if (n <= 0) return;  // the server may close early (e.g. after refusing a large body)
    sent += static_cast<std::size_t>(n);
  }
}

std::string read_all(int fd) {
  std::string out;
  char buf[4096];
  for (;;) {
    const ssize_t n = ::recv(fd, buf, sizeof buf, 0);
    if (n <= 0) break;
    out.append(buf, static_cast<std::size_t>(n));
  }
  return out;
}

struct RawReply {
  int status = 0;  // 0: no HTTP answer
  std::string head, body;
};

// Sends raw bytes on a fresh connection and reads the answer until the server closes.
RawReply http_exchange(int port, const std::string& request) {
  RawReply r;
  const int fd = connect_loopback(port);
  if (fd < 0) return r;
  send_all(fd, request);  // no half-close: httplib takes it for a dead peer and does not answer
  const std::string text = read_all(fd);
  ::close(fd);
  if (text.rfind("HTTP/1.", 0) == 0 && text.size() > 12) r.status = std::stoi(text.substr(9, 3));
  const auto split = text.find("\r\n\r\n");
  r.head = text.substr(0, split);
  if (split != std::string::npos) r.body = text.substr(split + 4);
  return r;
}

std::string get_request(const std::string& path) {
  return "GET " + path + " HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n\r\n";
}

std::string post_request(const std::string& body, const std::string& extra_headers = {}) {
  return "POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nConnection: close\r\n"
         "Content-Type: application/json\r\nContent-Length: " +
         std::to_string(body.size()) + "\r\n" + extra_headers + "\r\n" + body;
}

// Stops a server when a test leaves its scope (declared after the future running it).
struct StopOnExit {
  WorkshopServer& server;
  ~StopOnExit() { server.stop(); }
};

TEST(WorkshopServer, LoopbackServerSurvivesBadClientsAndStopsCleanly) {
  const Workshop& w = shared_workshop();
  ServerOptions so;
  so.host = "127.0.0.1";
  so.port = 0;  // ephemeral
  so.rate_burst = 30;
  so.rate_per_second = 10;
  so.http_threads = 4;
  so.read_timeout_seconds = 1;  // clients that send nothing more are dropped after 1 s
  so.keep_alive_seconds = 1;
  WorkshopServer server(w, so);
  const int port = server.bind();
  ASSERT_GT(port, 0);
  auto running = std::async(std::launch::async, [&server] { server.run(); });
  const StopOnExit stop_on_exit{server};  // a failed ASSERT must not leave run() blocking

  // good requests
  RawReply r = http_exchange(port, get_request("/"));
  EXPECT_EQ(r.status, 200);
  EXPECT_NE(r.body.find("<svg"), std::string::npos);
  EXPECT_NE(r.head.find("Content-Security-Policy"), std::string::npos);
  r = http_exchange(port, get_request("/api/levers"));
  EXPECT_EQ(r.status, 200);
  EXPECT_EQ(Json::parse(r.body, nullptr, false)["levers"].size(), 7u);
  r = http_exchange(port, post_request(R"({"max_level": 3})"));
  ASSERT_EQ(r.status, 200) << r.body;
  EXPECT_TRUE(Json::parse(r.body)["design"].contains("complete_package_share"));

  // malformed requests: JSON errors, never a crash
  r = http_exchange(port, post_request("{not json"));
  EXPECT_EQ(r.status, 400);
  EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  r = http_exchange(port, post_request(R"({"max_level": 42})"));
  EXPECT_EQ(r.status, 422);
  r = http_exchange(port, get_request("/no/such/page"));
  EXPECT_EQ(r.status, 404);
  EXPECT_NE(r.body.find("\"error\""), std::string::npos);
  r = http_exchange(port,
                    std::string("\x16\x03\x01\x02\x00\x01\x00\x01\xfc\x03\x03garbage\r\n\r\n", 21));
  EXPECT_TRUE(r.status == 0 || (r.status >= 400 && r.status < 500)) << r.head;
  r = http_exchange(
      port, "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nX: " + std::string(20000, 'h') + "\r\n\r\n");
  EXPECT_TRUE(r.status == 0 || (r.status >= 400 && r.status < 500)) << r.head;
  // another web page (DNS rebinding, cross-site form) is refused
  r = http_exchange(port,
                    "GET /api/levers HTTP/1.1\r\nHost: evil.example\r\nConnection: close\r\n\r\n");
  EXPECT_EQ(r.status, 403);
  r = http_exchange(port, post_request(R"({"max_level": 3})", "Origin: http://evil.example\r\n"));
  EXPECT_EQ(r.status, 403);

  // an oversized body, sent in full, and one only announced
  const std::string big = "{\"max_level\": 2, \"pad\": \"" + std::string(64 * 1024, 'x') + "\"}";
  r = http_exchange(port, post_request(big));
  EXPECT_TRUE(r.status == 413 || r.status == 0) << r.head;
  const auto t0 = std::chrono::steady_clock::now();
  r = http_exchange(
      port,
      "POST /api/compare HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Type: application/json\r\n"
      "Content-Length: 1000000000000\r\n\r\n{");
  EXPECT_EQ(r.status, 413) << r.head;
  EXPECT_LT(std::chrono::steady_clock::now() - t0, std::chrono::seconds(4));

  // a client that stalls in the middle of its headers does not block others
  const int stalled = connect_loopback(port);
  ASSERT_GE(stalled, 0);
  send_all(stalled, "GET / HTTP/1.1\r\nHost: 127.");
  r = http_exchange(port, get_request("/api/status"));
  EXPECT_EQ(r.status, 200);
  ::close(stalled);

  // a burst beyond the rate limit gets 429 with Retry-After, bounded in count
  int ok = 0, limited = 0;
  for (int i = 0; i < 80; ++i) {
    r = http_exchange(port, get_request("/api/status"));
    if (r.status == 200) ++ok;
    if (r.status == 429) {
      ++limited;
      EXPECT_NE(r.head.find("Retry-After"), std::string::npos);
    }
  }
  EXPECT_GT(limited, 0);
  EXPECT_EQ(ok + limited, 80);

  // ... and the server answers again once the bucket refills
  std::this_thread::sleep_for(std::chrono::milliseconds(1200));
  r = http_exchange(port, get_request("/api/status"));
  EXPECT_EQ(r.status, 200);
  r = http_exchange(port, post_request(R"({"max_level": 3})"));
  EXPECT_EQ(r.status, 200);

  server.stop();
  ASSERT_EQ(running.wait_for(std::chrono::seconds(10)), std::future_status::ready)
      << "the server did not stop";
  running.get();
  // nothing listens any more
  EXPECT_EQ(http_exchange(port, get_request("/api/status")).status, 0);
}

TEST(WorkshopServer, StopBeforeRunReturnsAndABusyPortIsReported) {
  const Workshop& w = shared_workshop();
  ServerOptions so;
  so.port = 0;
  WorkshopServer first(w, so);
  const int port = first.bind();
  first.stop();
  auto running = std::async(std::launch::async, [&first] { first.run(); });
  ASSERT_EQ(running.wait_for(std::chrono::seconds(10)), std::future_status::ready);

  WorkshopServer holder(w, so);
  const int held = holder.bind();
  ServerOptions same = so;
  same.port = held;
  WorkshopServer second(w, same);
  EXPECT_THROW(second.bind(), std::runtime_error);
  holder.stop();
  auto r2 = std::async(std::launch::async, [&holder] { holder.run(); });
  ASSERT_EQ(r2.wait_for(std::chrono::seconds(10)), std::future_status::ready);
  (void)port;
}

}  // namespace
