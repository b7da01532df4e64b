#include "tests/support/twilio_sim_process.hpp"

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <climits>
#include <cstdint>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

#ifndef SMSD_TWILIO_SIM_BINARY
#define SMSD_TWILIO_SIM_BINARY "twilio_sim"
#endif

namespace smsd::test {

namespace {

pid_t spawn(const std::vector<std::string>& args, int stdout_fd, int stderr_fd) {
  std::vector<std::string> env;
  if (const char* path = std::getenv("PATH"))
    env.push_back(std::string("PATH=") + path);
  // Everything the child needs is built before fork: other threads may hold malloc's lock.
  std::vector<char*> argv, envp;
  for (auto& a : args)
    argv.push_back(const_cast<char*>(a.c_str()));
  argv.push_back(nullptr);
  for (auto& e : env)
    envp.push_back(const_cast<char*>(e.c_str()));
  envp.push_back(nullptr);
  sigset_t none;
  sigemptyset(&none);
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(stdout_fd, 1);
    dup2(stderr_fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    // The test runner may block signals in its threads; the child starts with none blocked.
    sigprocmask(SIG_SETMASK, &none, nullptr);
    execve(argv[0], argv.data(), envp.data());
    _exit(127);
  }
  return pid;
}

std::string slurp(const std::string& path) {
  std::ifstream in(path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

} // namespace

twilio_sim_process::twilio_sim_process(std::vector<std::string> args) {
  if (std::find(args.begin(), args.end(), "--listen") == args.end()) {
    args.insert(args.begin(), "127.0.0.1:0");
    args.insert(args.begin(), "--listen");
  }
  args.insert(args.begin(), SMSD_TWILIO_SIM_BINARY);
  char tmpl[] = "/tmp/twilio-sim-log-XXXXXX";
  int log_fd = mkstemp(tmpl);
  if (log_fd < 0)
    throw std::runtime_error("mkstemp failed");
  log_path_ = tmpl;
  int pipefd[2];
  if (pipe(pipefd) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = spawn(args, pipefd[1], log_fd);
  close(pipefd[1]);
  close(log_fd);
  std::string out;
  const std::string marker = "twilio_sim listening on ";
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{pipefd[0], POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[512];
      const auto n = read(pipefd[0], buf, sizeof buf);
      if (n <= 0)
        break;
      out.append(buf, static_cast<std::size_t>(n));
      const auto at = out.find(marker);
      const auto nl = at == std::string::npos ? std::string::npos : out.find('\n', at);
      if (nl != std::string::npos) {
        const auto hostport = out.substr(at + marker.size(), nl - at - marker.size());
        port_ = static_cast<std::uint16_t>(std::stoi(hostport.substr(hostport.rfind(':') + 1)));
        break;
      }
    }
  }
  close(pipefd[0]);
  if (port_ == 0) {
    kill(pid_, SIGKILL);
    wait_for_exit(10000);
    throw std::runtime_error("twilio_sim did not start: " + out + slurp(log_path_));
  }
}

twilio_sim_process::~twilio_sim_process() {
  if (pid_ > 0)
    stop();
  if (!log_path_.empty())
    unlink(log_path_.c_str());
}

int twilio_sim_process::wait_for_exit(int timeout_ms) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  do {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  } while (std::chrono::steady_clock::now() < deadline);
  return INT32_MIN;
}

int twilio_sim_process::stop(int timeout_ms, int signal) {
  if (pid_ <= 0)
    return 0;
  kill(pid_, signal);
  const int rc = wait_for_exit(timeout_ms);
  if (rc == INT32_MIN) {
    kill(pid_, SIGKILL);
    wait_for_exit(10000);
  }
  return rc;
}

std::string twilio_sim_process::log() const {
  return slurp(log_path_);
}

run_result run_twilio_sim(const std::vector<std::string>& args, int timeout_ms) {
  char tmpl[] = "/tmp/twilio-sim-run-XXXXXX";
  const int fd = mkstemp(tmpl);
  if (fd < 0)
    throw std::runtime_error("mkstemp failed");
  std::vector<std::string> argv{SMSD_TWILIO_SIM_BINARY};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn(argv, fd, fd);
  close(fd);
  int status = 0;
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  }
  run_result r{WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), slurp(tmpl)};
  unlink(tmpl);
  return r;
}

} // namespace smsd::test
