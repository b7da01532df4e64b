#include "tests/support/prism_process.hpp"

#include <fcntl.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#include <Poco/Exception.h>
#include <Poco/Net/HTTPClientSession.h>
#include <Poco/Net/HTTPRequest.h>
#include <Poco/Net/HTTPResponse.h>
#include <Poco/Timespan.h>

#include "tests/support/smsd_process.hpp"

#ifndef SMSD_SOURCE_DIR
#define SMSD_SOURCE_DIR "."
#endif

extern char** environ;

namespace smsd::test {

namespace {

const std::string node_dir = std::string(SMSD_SOURCE_DIR) + "/tests/node";

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

std::string twilio_api_spec() {
  return node_dir + "/node_modules/@twilio/cli-core/src/services/twilio-api/twilio_api_v2010.json";
}

prism_process::prism_process(prism_options options) {
  char tmpl[] = "/tmp/smsd-prism-XXXXXX";
  int fd = mkstemp(tmpl);
  if (fd < 0)
    throw std::runtime_error("mkstemp failed");
  close(fd);
  log_path_ = tmpl;
  std::string why;
  // free_port() cannot hold the port for Prism: if another process takes it first, Prism exits
  // and we try another.
  for (int tries = 0; tries < 3; ++tries)
    if (start(options, why))
      return;
  unlink(log_path_.c_str());
  throw std::runtime_error("prism did not start: " + why);
}

prism_process::~prism_process() {
  stop();
  if (!log_path_.empty())
    unlink(log_path_.c_str());
}

std::string prism_process::base_url() const {
  return "http://127.0.0.1:" + std::to_string(port_);
}

bool prism_process::start(const prism_options& options, std::string& why) {
  port_ = free_port();
  std::vector<std::string> args{node_dir + "/node_modules/.bin/prism", options.command,
                                options.spec};
  if (options.command == "proxy")
    args.push_back(options.upstream);
  for (const char* a : {"--host", "127.0.0.1", "--port"})
    args.emplace_back(a);
  args.push_back(std::to_string(port_));
  if (options.errors)
    args.emplace_back("--errors");
  args.insert(args.end(), options.extra_args.begin(), options.extra_args.end());

  int log_fd = open(log_path_.c_str(), O_WRONLY | O_TRUNC);
  pid_ = fork();
  if (pid_ < 0)
    throw std::runtime_error("fork failed");
  if (pid_ == 0) {
    // A group of its own: node may start helpers, and stop() ends them all by this id.
    setpgid(0, 0);
    dup2(log_fd, 1);
    dup2(log_fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    std::vector<char*> argv;
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    // The script starts with `#!/usr/bin/env node`: node is found on PATH.
    execve(argv[0], argv.data(), environ);
    _exit(127);
  }
  setpgid(pid_, pid_); // also here, so that stop() works even before the child got to it
  close(log_fd);

  const auto deadline =
    std::chrono::steady_clock::now() + std::chrono::milliseconds(options.start_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    if (exited(0)) {
      kill(-pid_, SIGKILL);
      reap();
      why = "prism exited early:\n" + log();
      return false;
    }
    if (answers_http())
      return true;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  why = "prism did not answer within " + std::to_string(options.start_timeout_ms) + " ms:\n" + log();
  stop();
  return false;
}

bool prism_process::answers_http() const {
  try {
    Poco::Net::HTTPClientSession session("127.0.0.1", port_);
    session.setTimeout(Poco::Timespan(2, 0));
    Poco::Net::HTTPRequest request(Poco::Net::HTTPRequest::HTTP_GET, "/",
                                   Poco::Net::HTTPMessage::HTTP_1_1);
    session.sendRequest(request);
    Poco::Net::HTTPResponse response;
    session.receiveResponse(response);
    return true; // any status will do: it is Prism answering
  } catch (const Poco::Exception&) {
    return false;
  }
}

bool prism_process::exited(int timeout_ms) const {
  // WNOWAIT leaves the child a zombie: its id, and so its process group's id, stays taken until
  // reap(), so signalling the group never reaches an unrelated process.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  for (;;) {
    siginfo_t info{};
    if (waitid(P_PID, static_cast<id_t>(pid_), &info, WEXITED | WNOHANG | WNOWAIT) == 0
        && info.si_pid == pid_)
      return true;
    if (std::chrono::steady_clock::now() >= deadline)
      return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
}

int prism_process::reap() {
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
  return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
}

int prism_process::stop(int timeout_ms) {
  if (pid_ <= 0)
    return 0;
  const pid_t group = pid_;
  kill(-group, SIGTERM);
  if (!exited(timeout_ms)) {
    kill(-group, SIGKILL);
    exited(10000);
  }
  kill(-group, SIGKILL); // helpers that outlived it, if any
  return reap();
}

std::string prism_process::log() const {
  return slurp(log_path_);
}

} // namespace smsd::test
