#include "tests/support/smsd_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <poll.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>
#include <vector>

#ifndef SMSD_BINARY
#define SMSD_BINARY "smsd"
#endif

namespace smsd::test {

namespace {

std::vector<std::string> env_strings(std::map<std::string, std::string> env) {
  if (const char* path = std::getenv("PATH"))
    env.emplace("PATH", path);
  std::vector<std::string> out;
  for (auto& [k, v] : env)
    out.push_back(k + "=" + v);
  return out;
}

pid_t spawn(const std::vector<std::string>& args, const std::vector<std::string>& env,
            int stdout_fd, int stderr_fd) {
  pid_t pid = fork();
  if (pid < 0)
    throw std::runtime_error("fork failed");
  if (pid == 0) {
    dup2(stdout_fd, 1);
    dup2(stderr_fd, 2);
    int devnull = open("/dev/null", O_RDONLY);
    dup2(devnull, 0);
    std::vector<char*> argv, envp;
    for (auto& a : args)
      argv.push_back(const_cast<char*>(a.c_str()));
    argv.push_back(nullptr);
    for (auto& e : env)
      envp.push_back(const_cast<char*>(e.c_str()));
    envp.push_back(nullptr);
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

smsd_process::smsd_process(std::map<std::string, std::string> env) {
  env.emplace("SMSD_LISTEN", "127.0.0.1:0");
  char tmpl[] = "/tmp/smsd-log-XXXXXX";
  int log_fd = mkstemp(tmpl);
  log_path_ = tmpl;
  int pipefd[2];
  if (pipe(pipefd) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = spawn({SMSD_BINARY, "serve"}, env_strings(env), pipefd[1], log_fd);
  close(pipefd[1]);
  close(log_fd);
  std::string out;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(30);
  const std::string marker = "smsd listening on ";
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{pipefd[0], POLLIN, 0};
    if (poll(&p, 1, 100) > 0) {
      char buf[512];
      auto n = read(pipefd[0], buf, sizeof buf);
      if (n <= 0)
        break;
      out.append(buf, static_cast<std::size_t>(n));
      auto at = out.find(marker);
      auto nl = at == std::string::npos ? std::string::npos : out.find('\n', at);
      if (nl != std::string::npos) {
        auto hostport = out.substr(at + marker.size(), nl - at - marker.size());
        port_ = static_cast<std::uint16_t>(std::stoi(hostport.substr(hostport.rfind(':') + 1)));
        break;
      }
    }
  }
  close(pipefd[0]);
  if (port_ == 0) {
    kill9();
    throw std::runtime_error("smsd did not start: " + out + slurp(log_path_));
  }
}

smsd_process::~smsd_process() {
  if (pid_ > 0)
    stop();
  if (!log_path_.empty())
    unlink(log_path_.c_str());
}

int smsd_process::wait_for_exit(int timeout_ms) {
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    int status = 0;
    pid_t r = waitpid(pid_, &status, WNOHANG);
    if (r == pid_) {
      pid_ = -1;
      return WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status);
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return INT32_MIN;
}

int smsd_process::stop() {
  if (pid_ <= 0)
    return 0;
  kill(pid_, SIGTERM);
  int rc = wait_for_exit(20000);
  if (rc == INT32_MIN) {
    std::fprintf(stderr, "smsd (pid %d) did not stop within 20 s of SIGTERM: killing it\n",
                 static_cast<int>(pid_));
    // Where it hangs, for the test's output.
    if (access("/usr/bin/gdb", X_OK) == 0) {
      auto cmd = "timeout 60 /usr/bin/gdb -p " + std::to_string(pid_)
                 + " -batch -ex 'thread apply all bt 20' 2>/dev/null | grep -E '^Thread|^#' >&2";
      if (std::system(cmd.c_str()) != 0)
        std::fprintf(stderr, "(gdb could not read its threads)\n");
    }
    kill(pid_, SIGKILL);
    rc = wait_for_exit(10000);
  }
  if (rc != 0) {
    auto text = log();
    std::fprintf(stderr, "smsd exited with %d; the end of its log:\n%s\n", rc,
                 text.substr(text.size() > 4000 ? text.size() - 4000 : 0).c_str());
  }
  return rc;
}

void smsd_process::kill9() {
  if (pid_ <= 0)
    return;
  kill(pid_, SIGKILL);
  wait_for_exit(10000);
}

std::string smsd_process::log() const {
  return slurp(log_path_);
}

std::uint16_t free_port() {
  int fd = socket(AF_INET, SOCK_STREAM, 0);
  sockaddr_in addr{};
  addr.sin_family = AF_INET;
  addr.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  addr.sin_port = 0;
  if (bind(fd, reinterpret_cast<sockaddr*>(&addr), sizeof addr) != 0) {
    close(fd);
    throw std::runtime_error("cannot bind a free port");
  }
  socklen_t len = sizeof addr;
  getsockname(fd, reinterpret_cast<sockaddr*>(&addr), &len);
  close(fd);
  return ntohs(addr.sin_port);
}

run_result run_smsd(const std::string& args, const std::map<std::string, std::string>& env,
                    int timeout_ms) {
  char tmpl[] = "/tmp/smsd-run-XXXXXX";
  int fd = mkstemp(tmpl);
  std::vector<std::string> argv{SMSD_BINARY};
  std::istringstream words(args);
  for (std::string w; words >> w;)
    argv.push_back(w);
  pid_t pid = spawn(argv, env_strings(env), fd, fd);
  close(fd);
  int status = 0;
  auto deadline = std::chrono::steady_clock::now() + std::chrono::milliseconds(timeout_ms);
  while (waitpid(pid, &status, WNOHANG) == 0) {
    if (std::chrono::steady_clock::now() > deadline) {
      kill(pid, SIGKILL);
      waitpid(pid, &status, 0);
      break;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  run_result r{WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), slurp(tmpl)};
  unlink(tmpl);
  return r;
}

} // namespace smsd::test
