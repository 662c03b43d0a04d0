// HTTPS and WSS on the real server with a certificate made for the test (a CA and server
// certificates from tests/common/make_test_certs.sh): requests with the CA trusted, plaintext
// refused with a 400 that says so, bad files refused at start, certificates re-read for new
// connections (QuarryServer::ReloadTls in process, SIGHUP on the real binary) while a bad new
// file keeps the old one, and Hrana over WSS. The C++ client, the CLI and the server's own
// outgoing calls (webhooks, the key set) as TLS clients: https://, libsql:// and wss:// URLs,
// --ca-file, and the errors for an untrusted certificate or a port of the other kind.

#include <fcntl.h>
#include <gtest/gtest.h>
#include <openssl/ssl.h>
#include <openssl/x509.h>
#include <poll.h>
#include <signal.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <unistd.h>

#include <boost/asio.hpp>
#include <boost/asio/ssl.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>
#include <boost/beast/websocket.hpp>
#include <boost/beast/websocket/ssl.hpp>
#include <boost/json.hpp>
#include <condition_variable>
#include <filesystem>
#include <fstream>
#include <mutex>
#include <string>
#include <thread>

#include "cli_runner.h"
#include "client/admin_client.h"
#include "client/client.h"
#include "client/realtime_client.h"
#include "server/jwks_source.h"
#include "test_server.h"

namespace quarry::testing {
namespace {

namespace beast = boost::beast;
namespace bhttp = beast::http;
namespace websocket = beast::websocket;
namespace net = boost::asio;
namespace ssl = net::ssl;
namespace json = boost::json;
namespace fs = std::filesystem;
using tcp = net::ip::tcp;

// A CA and two server certificates signed by it (serial 0x1001 "quarry-test-a", 0x1002
// "quarry-test-b"), and the pair of files the server is pointed at, holding "a" at first.
class Certificates {
 public:
  Certificates() {
    ok_ = Run("ca") && Run("server a quarry-test-a 0x1001") && Run("server b quarry-test-b 0x1002");
    if (ok_) {
      Serve("a");
    }
  }
  bool ok() const { return ok_; }
  fs::path ca() const { return dir_.path() / "ca.crt"; }
  fs::path cert() const { return dir_.path() / "server.crt"; }
  fs::path key() const { return dir_.path() / "server.key"; }
  fs::path file(const std::string& name) const { return dir_.path() / name; }
  // Copies certificate `name` and its key over the served pair.
  void Serve(const std::string& name) const {
    fs::copy_file(file(name + ".crt"), cert(), fs::copy_options::overwrite_existing);
    fs::copy_file(file(name + ".key"), key(), fs::copy_options::overwrite_existing);
  }
  void Write(const fs::path& path, const std::string& text) const {
    std::ofstream(path, std::ios::trunc) << text;
  }

 private:
  bool Run(const std::string& args) {
    std::string command = std::string(QUARRY_TEST_CERTS_SCRIPT) + " " +
                          args.substr(0, args.find(' ')) + " '" + dir_.path().string() + "'" +
                          (args.find(' ') == std::string::npos ? "" : args.substr(args.find(' ')));
    int rc = std::system(command.c_str());
    if (rc != 0) {
      ADD_FAILURE() << "making test certificates failed: " << command;
      return false;
    }
    return true;
  }
  TempDir dir_;
  bool ok_ = false;
};

void UseTls(const Certificates& certs, server::ServerConfig& config) {
  config.tls_cert_file = certs.cert().string();
  config.tls_key_file = certs.key().string();
}

// A blocking HTTPS client that trusts the test CA and checks the server's name is 127.0.0.1.
// Reads give up after 30 s (a hang guard, not a timing check).
class HttpsClient {
 public:
  HttpsClient(uint16_t port, const fs::path& ca) : context_(ssl::context::tls_client) {
    context_.load_verify_file(ca.string());
    context_.set_verify_mode(ssl::verify_peer);
    stream_.emplace(ioc_, context_);
    stream_->set_verify_callback(ssl::host_name_verification("127.0.0.1"));
    beast::error_code ec;
    stream_->next_layer().connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port), ec);
    if (ec) {
      error_ = "connect: " + ec.message();
      return;
    }
    timeval timeout{30, 0};
    setsockopt(stream_->next_layer().native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
               sizeof(timeout));
    stream_->handshake(ssl::stream_base::client, ec);
    if (ec) {
      error_ = "handshake: " + ec.message();
    }
  }
  bool ok() const { return error_.empty(); }
  const std::string& error() const { return error_; }

  // The serial number (hex, as OpenSSL prints it) and subject CN of the server's certificate.
  std::string PeerSerial() {
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    if (cert == nullptr) {
      return "";
    }
    BIGNUM* bn = ASN1_INTEGER_to_BN(X509_get0_serialNumber(cert), nullptr);
    char* hex = BN_bn2hex(bn);
    std::string out = hex;
    OPENSSL_free(hex);
    BN_free(bn);
    X509_free(cert);
    return out;
  }
  std::string PeerCommonName() {
    X509* cert = SSL_get1_peer_certificate(stream_->native_handle());
    if (cert == nullptr) {
      return "";
    }
    char name[256] = {};
    X509_NAME_get_text_by_NID(X509_get_subject_name(cert), NID_commonName, name, sizeof(name));
    X509_free(cert);
    return name;
  }
  int Version() { return SSL_version(stream_->native_handle()); }

  bhttp::response<bhttp::string_body> Post(const std::string& target, const std::string& body,
                                           const std::string& token) {
    bhttp::request<bhttp::string_body> request(bhttp::verb::post, target, 11);
    request.set(bhttp::field::host, "127.0.0.1");
    request.set(bhttp::field::content_type, "application/json");
    if (!token.empty()) {
      request.set(bhttp::field::authorization, "Bearer " + token);
    }
    request.body() = body;
    request.prepare_payload();
    bhttp::response<bhttp::string_body> response;
    beast::error_code ec;
    bhttp::write(*stream_, request, ec);
    if (!ec) {
      bhttp::read(*stream_, buffer_, response, ec);
    }
    EXPECT_FALSE(ec) << ec.message();
    return response;
  }

 private:
  net::io_context ioc_;
  ssl::context context_;
  std::optional<ssl::stream<tcp::socket>> stream_;
  beast::flat_buffer buffer_;
  std::string error_;
};

constexpr std::string_view kSelect42 =
    R"({"requests":[{"type":"execute","stmt":{"sql":"SELECT 41 + 1"}},{"type":"close"}]})";

// The value of the first row's first column of the first result of a pipeline response.
std::string FirstPipelineValue(const std::string& body) {
  json::value parsed = json::parse(body);
  return std::string(parsed.at("results")
                         .at(0)
                         .at("response")
                         .at("result")
                         .at("rows")
                         .at(0)
                         .at(0)
                         .at("value")
                         .as_string());
}

// Sends `request` over plain TCP and returns everything the server sends until it closes.
std::string PlaintextExchange(uint16_t port, const std::string& request) {
  net::io_context ioc;
  tcp::socket socket(ioc);
  socket.connect(tcp::endpoint(net::ip::make_address("127.0.0.1"), port));
  timeval timeout{30, 0};
  setsockopt(socket.native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof(timeout));
  net::write(socket, net::buffer(request));
  std::string answer;
  beast::error_code ec;
  char chunk[4096];
  while (true) {
    size_t n = socket.read_some(net::buffer(chunk), ec);
    if (ec) {
      break;
    }
    answer.append(chunk, n);
  }
  return answer;
}

TEST(TlsTest, HttpsPipelineWithTheCaTrusted) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();
  HttpsClient client(server.port(), certs.ca());
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_GE(client.Version(), TLS1_2_VERSION);
  EXPECT_EQ(client.PeerCommonName(), "quarry-test-a");
  auto response = client.Post("/v2/pipeline", std::string(kSelect42), server.AdminToken());
  ASSERT_EQ(response.result_int(), 200) << response.body();
  EXPECT_EQ(FirstPipelineValue(response.body()), "42");
  // Keep-alive: a second request on the same connection.
  response = client.Post("/v2/pipeline", std::string(kSelect42), server.AdminToken());
  EXPECT_EQ(response.result_int(), 200) << response.body();
}

// Answers larger than a TLS record (16 KiB) arrive whole, and the connection goes on: the head
// and the body of a response are written as one buffer over TLS (Beast's ssl_stream stopped a
// two-buffer write after the head, and the client waited for the body until its timeout).
TEST(TlsTest, AnswersLargerThanATlsRecordArriveWhole) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();
  HttpsClient client(server.port(), certs.ca());
  ASSERT_TRUE(client.ok()) << client.error();
  for (int bytes : {8000, 10000, 17000, 200000}) {
    std::string select =
        "{\"requests\":[{\"type\":\"execute\",\"stmt\":{\"sql\":\"SELECT hex(zeroblob(" +
        std::to_string(bytes) + "))\"}},{\"type\":\"close\"}]}";
    auto response = client.Post("/v2/pipeline", select, server.AdminToken());
    ASSERT_EQ(response.result_int(), 200) << response.body().substr(0, 200);
    EXPECT_EQ(FirstPipelineValue(response.body()), std::string(2 * bytes, '0')) << bytes;
  }
  EXPECT_EQ(FirstPipelineValue(
                client.Post("/v2/pipeline", std::string(kSelect42), server.AdminToken()).body()),
            "42");
}

TEST(TlsTest, ClientThatDoesNotTrustTheCaFailsTheHandshake) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  Certificates other;  // another CA, which did not sign the server's certificate
  ASSERT_TRUE(other.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();
  HttpsClient client(server.port(), other.ca());
  EXPECT_FALSE(client.ok());
  // The server is unharmed.
  HttpsClient trusting(server.port(), certs.ca());
  EXPECT_TRUE(trusting.ok()) << trusting.error();
}

TEST(TlsTest, PlaintextHttpIsAnsweredWith400SayingThePortSpeaksHttps) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();
  std::string answer =
      PlaintextExchange(server.port(), "GET /v2 HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("https://"), std::string::npos) << answer;
  EXPECT_NE(answer.find("wss://"), std::string::npos) << answer;
  EXPECT_NE(answer.find("Connection: close"), std::string::npos) << answer;

  // A request with a body, and a WebSocket upgrade (ws:// to a TLS port), get the same answer.
  answer = PlaintextExchange(
      server.port(), "POST /v2/pipeline HTTP/1.1\r\nHost: 127.0.0.1\r\nContent-Length: " +
                         std::to_string(kSelect42.size()) + "\r\n\r\n" + std::string(kSelect42));
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
  answer = PlaintextExchange(server.port(),
                             "GET / HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\n"
                             "Connection: Upgrade\r\nSec-WebSocket-Version: 13\r\n"
                             "Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\n\r\n");
  EXPECT_EQ(answer.rfind("HTTP/1.1 400 ", 0), 0u) << answer;
  EXPECT_NE(answer.find("wss://"), std::string::npos) << answer;

  // HTTPS still works beside it.
  HttpsClient client(server.port(), certs.ca());
  ASSERT_TRUE(client.ok()) << client.error();
}

TEST(TlsTest, BadFilesFailAtStartNamingTheFlagAndFile) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer missing([&](server::ServerConfig& config) {
    config.tls_cert_file = certs.file("absent.crt").string();
    config.tls_key_file = certs.key().string();
  });
  ASSERT_FALSE(missing.ok());
  EXPECT_NE(
      missing.error().find("cannot read --tls-cert file '" + certs.file("absent.crt").string()),
      std::string::npos)
      << missing.error();

  certs.Write(certs.file("garbage.key"), "not a key\n");
  TestServer garbage([&](server::ServerConfig& config) {
    config.tls_cert_file = certs.cert().string();
    config.tls_key_file = certs.file("garbage.key").string();
  });
  ASSERT_FALSE(garbage.ok());
  EXPECT_NE(garbage.error().find("--tls-key file"), std::string::npos) << garbage.error();
  EXPECT_NE(garbage.error().find("no usable PEM private key"), std::string::npos)
      << garbage.error();

  TestServer mismatched([&](server::ServerConfig& config) {
    config.tls_cert_file = certs.file("a.crt").string();
    config.tls_key_file = certs.file("b.key").string();
  });
  ASSERT_FALSE(mismatched.ok());
  EXPECT_NE(mismatched.error().find("is not the private key of the certificate"), std::string::npos)
      << mismatched.error();

  // The CA file the server trusts for its own https calls is read at start too.
  TestServer bad_ca(
      [&](server::ServerConfig& config) { config.ca_file = certs.file("garbage.key").string(); });
  ASSERT_FALSE(bad_ca.ok());
  EXPECT_NE(bad_ca.error().find("--ca-file: cannot read certificate authorities from " +
                                certs.file("garbage.key").string()),
            std::string::npos)
      << bad_ca.error();

  TestServer only_cert(
      [&](server::ServerConfig& config) { config.tls_cert_file = certs.cert().string(); });
  ASSERT_FALSE(only_cert.ok());
  EXPECT_NE(only_cert.error().find("--tls-cert needs --tls-key"), std::string::npos)
      << only_cert.error();
}

TEST(TlsTest, ReloadServesTheNewCertificateToNewConnections) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();
  HttpsClient before(server.port(), certs.ca());
  ASSERT_TRUE(before.ok()) << before.error();
  EXPECT_EQ(before.PeerSerial(), "1001");

  certs.Serve("b");
  auto reloaded = server.server().ReloadTls();
  ASSERT_TRUE(reloaded.ok()) << reloaded.status().ToString();
  EXPECT_NE(reloaded->find("quarry-test-b"), std::string::npos) << *reloaded;
  EXPECT_NE(reloaded->find("serial 0x1002"), std::string::npos) << *reloaded;

  HttpsClient after(server.port(), certs.ca());
  ASSERT_TRUE(after.ok()) << after.error();
  EXPECT_EQ(after.PeerSerial(), "1002");
  EXPECT_EQ(after.PeerCommonName(), "quarry-test-b");
  EXPECT_EQ(after.Post("/v2/pipeline", std::string(kSelect42), server.AdminToken()).result_int(),
            200);
  // The connection made before the reload goes on with the certificate it was made with.
  EXPECT_EQ(before.Post("/v2/pipeline", std::string(kSelect42), server.AdminToken()).result_int(),
            200);
  EXPECT_EQ(before.PeerSerial(), "1001");
}

TEST(TlsTest, BadFileOnReloadKeepsServingTheOldCertificate) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();

  certs.Write(certs.cert(), "-----BEGIN CERTIFICATE-----\ntruncated\n");
  auto reloaded = server.server().ReloadTls();
  ASSERT_FALSE(reloaded.ok());
  EXPECT_NE(reloaded.status().message().find("--tls-cert file '" + certs.cert().string() + "'"),
            std::string::npos)
      << reloaded.status().message();
  HttpsClient client(server.port(), certs.ca());
  ASSERT_TRUE(client.ok()) << client.error();
  EXPECT_EQ(client.PeerSerial(), "1001");

  // A renewed certificate whose key was not copied yet: a mismatch, refused the same way.
  fs::copy_file(certs.file("b.crt"), certs.cert(), fs::copy_options::overwrite_existing);
  reloaded = server.server().ReloadTls();
  ASSERT_FALSE(reloaded.ok());
  EXPECT_NE(reloaded.status().message().find("is not the private key"), std::string::npos)
      << reloaded.status().message();
  HttpsClient still(server.port(), certs.ca());
  ASSERT_TRUE(still.ok()) << still.error();
  EXPECT_EQ(still.PeerSerial(), "1001");

  // Once the key is there too, the next reload takes both.
  fs::copy_file(certs.file("b.key"), certs.key(), fs::copy_options::overwrite_existing);
  ASSERT_TRUE(server.server().ReloadTls().ok());
  HttpsClient renewed(server.port(), certs.ca());
  ASSERT_TRUE(renewed.ok()) << renewed.error();
  EXPECT_EQ(renewed.PeerSerial(), "1002");
}

TEST(TlsTest, WssHelloAndExecute) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();

  net::io_context ioc;
  ssl::context context(ssl::context::tls_client);
  context.load_verify_file(certs.ca().string());
  context.set_verify_mode(ssl::verify_peer);
  websocket::stream<ssl::stream<tcp::socket>> ws(ioc, context);
  ws.next_layer().set_verify_callback(ssl::host_name_verification("127.0.0.1"));
  beast::get_lowest_layer(ws).connect(
      tcp::endpoint(net::ip::make_address("127.0.0.1"), server.port()));
  timeval timeout{30, 0};
  setsockopt(beast::get_lowest_layer(ws).native_handle(), SOL_SOCKET, SO_RCVTIMEO, &timeout,
             sizeof(timeout));
  ws.next_layer().handshake(ssl::stream_base::client);
  ws.set_option(websocket::stream_base::decorator([](websocket::request_type& request) {
    request.set(bhttp::field::sec_websocket_protocol, "hrana3");
  }));
  websocket::response_type upgrade;
  ws.handshake(upgrade, "127.0.0.1:" + std::to_string(server.port()), "/");
  EXPECT_EQ(upgrade[bhttp::field::sec_websocket_protocol], "hrana3");

  auto send = [&](const json::object& message) { ws.write(net::buffer(json::serialize(message))); };
  auto read = [&] {
    beast::flat_buffer buffer;
    ws.read(buffer);
    return json::parse(beast::buffers_to_string(buffer.data())).as_object();
  };
  send({{"type", "hello"}, {"jwt", server.AdminToken()}});
  send({{"type", "request"},
        {"request_id", 1},
        {"request", {{"type", "open_stream"}, {"stream_id", 1}}}});
  send({{"type", "request"},
        {"request_id", 2},
        {"request", {{"type", "execute"}, {"stream_id", 1}, {"stmt", {{"sql", "SELECT 6 * 7"}}}}}});
  EXPECT_EQ(read().at("type"), "hello_ok");
  json::object opened = read();
  EXPECT_EQ(opened.at("type"), "response_ok") << json::serialize(opened);
  json::object executed = read();
  ASSERT_EQ(executed.at("type"), "response_ok") << json::serialize(executed);
  EXPECT_EQ(executed.at("response").at("result").at("rows").at(0).at(0).at("value"), "42");
  ws.close(websocket::close_code::normal);
}

// The real `quarry serve` with a pipe for its output, for SIGHUP.
class ServeProcess {
 public:
  explicit ServeProcess(const std::vector<std::string>& args) {
    int fds[2];
    if (pipe(fds) != 0) {
      return;
    }
    pid_ = fork();
    if (pid_ == 0) {
      dup2(fds[1], 1);
      dup2(fds[1], 2);
      close(fds[0]);
      close(fds[1]);
      std::vector<char*> argv;
      argv.push_back(const_cast<char*>(QUARRY_BIN));
      argv.push_back(const_cast<char*>("serve"));
      for (const auto& arg : args) {
        argv.push_back(const_cast<char*>(arg.c_str()));
      }
      argv.push_back(nullptr);
      execv(QUARRY_BIN, argv.data());
      _exit(127);
    }
    close(fds[1]);
    out_ = fds[0];
  }
  ~ServeProcess() {
    if (pid_ > 0) {
      kill(pid_, SIGKILL);
      waitpid(pid_, nullptr, 0);
    }
    if (out_ >= 0) {
      close(out_);
    }
  }
  pid_t pid() const { return pid_; }
  // Reads the output until a line contains `text`; returns that line, or "" when the process
  // ended first (or after 30 s of silence, a hang guard).
  std::string WaitForLine(const std::string& text) {
    while (true) {
      size_t newline;
      while ((newline = pending_.find('\n')) != std::string::npos) {
        std::string line = pending_.substr(0, newline);
        pending_.erase(0, newline + 1);
        output_ += line + "\n";
        if (line.find(text) != std::string::npos) {
          return line;
        }
      }
      pollfd p{out_, POLLIN, 0};
      if (poll(&p, 1, 30'000) <= 0) {
        return "";
      }
      char chunk[4096];
      ssize_t n = read(out_, chunk, sizeof(chunk));
      if (n <= 0) {
        return "";
      }
      pending_.append(chunk, static_cast<size_t>(n));
    }
  }
  const std::string& output() const { return output_; }
  // SIGTERM, then the exit status.
  int Stop() {
    kill(pid_, SIGTERM);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
    return status;
  }

 private:
  pid_t pid_ = -1;
  int out_ = -1;
  std::string pending_;
  std::string output_;
};

TEST(TlsTest, SighupReloadsTheCertificateAndABadFileKeepsTheOldOne) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TempDir data;
  ServeProcess serve({"--listen", "127.0.0.1:0", "--data", (data.path() / "data").string(),
                      "--no-auth", "--tls-cert", certs.cert().string(), "--tls-key",
                      certs.key().string()});
  ASSERT_GT(serve.pid(), 0);
  std::string listening = serve.WaitForLine("listening on 127.0.0.1:");
  ASSERT_FALSE(listening.empty()) << serve.output();
  EXPECT_NE(listening.find("HTTPS and WSS only"), std::string::npos) << listening;
  auto port = static_cast<uint16_t>(std::stoi(listening.substr(listening.find("127.0.0.1:") + 10)));
  {
    HttpsClient client(port, certs.ca());
    ASSERT_TRUE(client.ok()) << client.error();
    EXPECT_EQ(client.PeerSerial(), "1001");
  }

  certs.Serve("b");
  ASSERT_EQ(kill(serve.pid(), SIGHUP), 0);
  std::string reloaded = serve.WaitForLine("SIGHUP: TLS certificate");
  EXPECT_NE(reloaded.find("reloaded: subject 'CN=quarry-test-b'"), std::string::npos)
      << serve.output();
  {
    HttpsClient client(port, certs.ca());
    ASSERT_TRUE(client.ok()) << client.error();
    EXPECT_EQ(client.PeerSerial(), "1002");
    EXPECT_EQ(client.Post("/v2/pipeline", std::string(kSelect42), "").result_int(), 200);
  }

  certs.Write(certs.key(), "");
  ASSERT_EQ(kill(serve.pid(), SIGHUP), 0);
  std::string refused = serve.WaitForLine("SIGHUP: TLS certificate");
  EXPECT_NE(refused.find("not reloaded, still serving the previous one"), std::string::npos)
      << serve.output();
  EXPECT_NE(refused.find("--tls-key file '" + certs.key().string() + "'"), std::string::npos)
      << refused;
  {
    HttpsClient client(port, certs.ca());
    ASSERT_TRUE(client.ok()) << client.error();
    EXPECT_EQ(client.PeerSerial(), "1002");
  }

  int status = serve.Stop();
  ASSERT_TRUE(WIFEXITED(status));
  EXPECT_EQ(WEXITSTATUS(status), 0);
}

TEST(TlsTest, ServeRefusesOneTlsFlagWithoutTheOther) {
  TempDir dir;
  CliResult result = RunCli({"serve", "--listen", "127.0.0.1:0", "--data",
                             (dir.path() / "data").string(), "--tls-cert", "server.crt"},
                            dir.path());
  EXPECT_NE(result.exit_code, 0);
  EXPECT_NE(result.output.find("--tls-cert needs --tls-key"), std::string::npos) << result.output;
}

// An HTTPS server for the Quarry server's outgoing calls: answers a GET with `get_body`, records
// each POST's body and answers it 200. Each connection is kept alive on a thread of its own
// (a webhook holds one open); the destructor's shutdown() ends the accept and the reads.
class HttpsReceiver {
 public:
  HttpsReceiver(const Certificates& certs, std::string get_body = "")
      : get_body_(std::move(get_body)),
        context_(ssl::context::tls_server),
        acceptor_(ioc_, tcp::endpoint(net::ip::make_address("127.0.0.1"), 0)) {
    context_.use_certificate_chain_file(certs.file("a.crt").string());
    context_.use_private_key_file(certs.file("a.key").string(), ssl::context::pem);
    accepting_ = std::thread([this] { Accept(); });
  }
  ~HttpsReceiver() {
    // Wakes the blocked accept and reads (closing the descriptors would not).
    ::shutdown(acceptor_.native_handle(), SHUT_RDWR);
    accepting_.join();
    std::vector<std::thread> threads;
    {
      std::lock_guard lock(mu_);
      for (auto& socket : sockets_) {
        ::shutdown(socket->native_handle(), SHUT_RDWR);
      }
      threads.swap(threads_);
    }
    for (auto& thread : threads) {
      thread.join();
    }
  }
  std::string url(const std::string& path) const {
    return "https://127.0.0.1:" + std::to_string(acceptor_.local_endpoint().port()) + path;
  }
  // The bodies of the POSTs received, once there are `n` (fewer after 30 s).
  std::vector<std::string> WaitPosts(size_t n) {
    std::unique_lock lock(mu_);
    cv_.wait_for(lock, std::chrono::seconds(30), [&] { return posts_.size() >= n; });
    return posts_;
  }

 private:
  void Accept() {
    while (true) {
      auto socket = std::make_shared<tcp::socket>(ioc_);
      beast::error_code ec;
      acceptor_.accept(*socket, ec);
      if (ec) {
        return;
      }
      std::lock_guard lock(mu_);
      sockets_.push_back(socket);
      threads_.emplace_back([this, socket] { Serve(*socket); });
    }
  }

  void Serve(tcp::socket& socket) {
    ssl::stream<tcp::socket&> stream(socket, context_);
    beast::error_code ec;
    stream.handshake(ssl::stream_base::server, ec);
    beast::flat_buffer buffer;
    while (!ec) {
      bhttp::request<bhttp::string_body> request;
      bhttp::read(stream, buffer, request, ec);
      if (ec) {
        break;
      }
      bhttp::response<bhttp::string_body> response(bhttp::status::ok, 11);
      response.set(bhttp::field::content_type, "application/json");
      if (request.method() == bhttp::verb::post) {
        std::lock_guard lock(mu_);
        posts_.push_back(request.body());
        cv_.notify_all();
        response.body() = "{}";
      } else {
        response.body() = get_body_;
      }
      response.keep_alive(true);
      response.prepare_payload();
      bhttp::write(stream, response, ec);
    }
  }

  const std::string get_body_;
  net::io_context ioc_;
  ssl::context context_;
  tcp::acceptor acceptor_;
  std::mutex mu_;
  std::condition_variable cv_;
  std::vector<std::string> posts_;
  std::vector<std::shared_ptr<tcp::socket>> sockets_;
  std::vector<std::thread> threads_;
  std::thread accepting_;
};

void ExpectFortyTwo(const client::ResultSet& rs) {
  ASSERT_EQ(rs.rows.size(), 1u);
  const auto& value = rs.rows[0].at(0);
  EXPECT_TRUE(client::SameValue(value, client::Integer(42))) << client::DebugString(value);
}

TEST(TlsTest, ClientLibraryOverHttpsAndLibsqlUrls) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();
  std::string port = std::to_string(server.port());
  client::ClientOptions options{.http = {.ca_file = certs.ca().string()}};
  // By address (the certificate's IP name) and by host name (SNI and its DNS name).
  for (const std::string& url :
       {"https://127.0.0.1:" + port + "/db/default", "libsql://localhost:" + port}) {
    auto db = client::Client::Open(url, server.AdminToken(), options);
    ASSERT_TRUE(db.ok()) << url << ": " << db.status().message();
    for (int i = 0; i < 2; ++i) {  // the second on the kept-alive connection
      auto rs = (*db)->Execute("SELECT 41 + 1");
      ASSERT_TRUE(rs.ok()) << url << ": " << rs.status().message();
      ExpectFortyTwo(*rs);
    }
  }
  auto admin = client::AdminClient::Open("https://127.0.0.1:" + port, server.AdminToken(),
                                         {.ca_file = certs.ca().string()});
  ASSERT_TRUE(admin.ok()) << admin.status().message();
  auto listed = (*admin)->ListNamespaces();
  ASSERT_TRUE(listed.ok()) << listed.status().message();
  EXPECT_FALSE(listed->empty());
}

TEST(TlsTest, ClientSaysWhyWhenTheCertificateOrThePortIsWrong) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer tls_server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(tls_server.ok()) << tls_server.error();
  TestServer plain_server;
  ASSERT_TRUE(plain_server.ok()) << plain_server.error();
  std::string tls_port = std::to_string(tls_server.port());

  // The system's store does not know the test CA.
  auto untrusted = client::Client::Open("https://127.0.0.1:" + tls_port, tls_server.AdminToken());
  ASSERT_TRUE(untrusted.ok());
  auto refused = (*untrusted)->Execute("SELECT 1");
  ASSERT_FALSE(refused.ok());
  EXPECT_EQ(refused.status().code(), ErrorCode::kUnavailable);
  EXPECT_NE(refused.status().message().find("certificate of https://127.0.0.1:" + tls_port +
                                            " was not accepted"),
            std::string::npos)
      << refused.status().message();
  EXPECT_NE(refused.status().message().find("--ca-file"), std::string::npos);

  // A CA file that is not one.
  TempDir dir;
  std::ofstream(dir.path() / "junk.pem") << "not a certificate\n";
  auto junk = client::Client::Open("https://127.0.0.1:" + tls_port, tls_server.AdminToken(),
                                   {.http = {.ca_file = (dir.path() / "junk.pem").string()}});
  ASSERT_TRUE(junk.ok());
  auto unread = (*junk)->Execute("SELECT 1");
  ASSERT_FALSE(unread.ok());
  EXPECT_NE(unread.status().message().find("junk.pem"), std::string::npos)
      << unread.status().message();

  // https:// to a plaintext port, and http:// to the TLS port (whose 400 says what to use).
  auto to_plain =
      client::Client::Open("https://127.0.0.1:" + std::to_string(plain_server.port()),
                           plain_server.AdminToken(), {.http = {.ca_file = certs.ca().string()}});
  ASSERT_TRUE(to_plain.ok());
  auto handshake = (*to_plain)->Execute("SELECT 1");
  ASSERT_FALSE(handshake.ok());
  EXPECT_NE(handshake.status().message().find("TLS handshake"), std::string::npos)
      << handshake.status().message();
  auto to_tls = client::Client::Open("http://127.0.0.1:" + tls_port, tls_server.AdminToken());
  ASSERT_TRUE(to_tls.ok());
  auto plaintext = (*to_tls)->Execute("SELECT 1");
  ASSERT_FALSE(plaintext.ok());
  EXPECT_NE(plaintext.status().message().find("https://"), std::string::npos)
      << plaintext.status().message();
}

TEST(TlsTest, RealtimeOverWss) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();
  std::string origin = "https://127.0.0.1:" + std::to_string(server.port());
  auto db = client::Client::Open(origin + "/db/default", server.AdminToken(),
                                 {.http = {.ca_file = certs.ca().string()}});
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)").ok());

  auto untrusted = client::RealtimeConnection::Open(
      "wss://127.0.0.1:" + std::to_string(server.port()), "default");
  ASSERT_FALSE(untrusted.ok());
  EXPECT_NE(untrusted.status().message().find("was not accepted"), std::string::npos)
      << untrusted.status().message();

  auto connection =
      client::RealtimeConnection::Open("wss://localhost:" + std::to_string(server.port()),
                                       "default", {.ca_file = certs.ca().string()});
  ASSERT_TRUE(connection.ok()) << connection.status().message();
  ASSERT_TRUE((*connection)->Hello(server.AdminToken()).ok());
  ASSERT_TRUE((*connection)->Subscribe({.id = "s1", .model = "posts"}).ok());
  std::vector<std::string> types;
  for (int i = 0; i < 20 && (types.empty() || types.back() != "subscribed"); ++i) {
    auto message = (*connection)->Read(std::chrono::seconds(30));
    ASSERT_TRUE(message.ok() && message->has_value()) << i;
    types.emplace_back((**message).at("type").as_string());
  }
  ASSERT_EQ(types.back(), "subscribed");
  ASSERT_TRUE((*db)->Execute("INSERT INTO posts VALUES (1, 'over wss')").ok());
  auto change = (*connection)->Read(std::chrono::seconds(30));
  ASSERT_TRUE(change.ok() && change->has_value());
  EXPECT_EQ((**change).at("type"), "change");
  EXPECT_EQ((**change).at("row").at("title"), "over wss");
}

TEST(TlsTest, CliOverHttpsWithCaFileAndThroughTheSavedProfile) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  TestServer server([&](server::ServerConfig& config) { UseTls(certs, config); });
  ASSERT_TRUE(server.ok()) << server.error();
  TempDir home;
  std::string url = "https://127.0.0.1:" + std::to_string(server.port());
  CliResult listed = RunCli({"db", "list", "--url", url, "--token", server.AdminToken(),
                             "--ca-file", certs.ca().string()},
                            home.path());
  EXPECT_EQ(listed.exit_code, 0) << listed.output;
  EXPECT_NE(listed.output.find("default"), std::string::npos) << listed.output;

  CliResult untrusted =
      RunCli({"db", "list", "--url", url, "--token", server.AdminToken()}, home.path());
  EXPECT_NE(untrusted.exit_code, 0);
  EXPECT_NE(untrusted.output.find("--ca-file"), std::string::npos) << untrusted.output;

  // login keeps the CA file (absolute) with the profile; later commands use it.
  std::filesystem::copy_file(certs.ca(), home.path() / "ca.crt");
  CliResult login = RunCli(
      {"login", "--url", url, "--token", server.AdminToken(), "--ca-file", "ca.crt"}, home.path());
  ASSERT_EQ(login.exit_code, 0) << login.output;
  CliResult shell = RunCli({"db", "shell", "default"}, home.path(), "SELECT 40 + 2;\n");
  EXPECT_EQ(shell.exit_code, 0) << shell.output;
  EXPECT_NE(shell.output.find("42"), std::string::npos) << shell.output;
}

TEST(TlsTest, WebhooksAndTheKeySetOverHttps) {
  Certificates certs;
  ASSERT_TRUE(certs.ok());
  HttpsReceiver receiver(certs, R"({"keys": []})");
  TestServer server([&](server::ServerConfig& config) {
    config.ca_file = certs.ca().string();
    config.webhook_retry_initial = std::chrono::milliseconds(20);
    config.webhook_retry_max = std::chrono::milliseconds(100);
  });
  ASSERT_TRUE(server.ok()) << server.error();
  auto db = client::Client::Open(server.url("default"), server.AdminToken());
  ASSERT_TRUE(db.ok());
  ASSERT_TRUE((*db)->Execute("CREATE TABLE posts (id INTEGER PRIMARY KEY, title TEXT)").ok());
  json::value created;
  ASSERT_EQ(server.Admin(
                "POST", "/namespaces/default/hooks",
                json::serialize(json::object{{"model", "posts"}, {"url", receiver.url("/hook")}}),
                &created),
            201)
      << json::serialize(created);
  ASSERT_TRUE((*db)->Execute("INSERT INTO posts VALUES (1, 'signed and sealed')").ok());
  std::vector<std::string> posts = receiver.WaitPosts(1);
  ASSERT_EQ(posts.size(), 1u);
  EXPECT_NE(posts[0].find("signed and sealed"), std::string::npos) << posts[0];

  // The key set fetcher trusts the same CA file.
  auto fetch = server::JwksFetcherFor(receiver.url("/jwks.json"), certs.ca().string());
  ASSERT_TRUE(fetch.ok()) << fetch.status().message();
  auto keys = (*fetch)();
  ASSERT_TRUE(keys.ok()) << keys.status().message();
  EXPECT_EQ(json::parse(*keys), json::parse(R"({"keys": []})"));
  auto untrusted = server::JwksFetcherFor(receiver.url("/jwks.json"));
  ASSERT_TRUE(untrusted.ok());
  auto refused = (*untrusted)();
  ASSERT_FALSE(refused.ok());
  EXPECT_NE(refused.status().message().find("was not accepted"), std::string::npos)
      << refused.status().message();
}

}  // namespace
}  // namespace quarry::testing
