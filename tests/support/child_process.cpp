#include "tests/support/child_process.hpp"

#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <climits>
#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <sstream>
#include <stdexcept>
#include <thread>

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
    // A test binary that crashes (or is killed by ctest's timeout) takes its children with it.
    prctl(PR_SET_PDEATHSIG, SIGTERM);
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

std::string temp_file(const char* prefix, int* fd) {
  std::string tmpl = std::string("/tmp/") + prefix + "-XXXXXX";
  *fd = mkstemp(tmpl.data());
  if (*fd < 0)
    throw std::runtime_error("mkstemp failed");
  return tmpl;
}

} // namespace

child_process::child_process(std::vector<std::string> argv,
                             const std::map<std::string, std::string>& env, std::string marker,
                             int start_timeout_ms)
  : name_(argv.at(0)) {
  int log_fd = -1;
  log_path_ = temp_file("child-log", &log_fd);
  int pipefd[2];
  if (pipe(pipefd) != 0)
    throw std::runtime_error("pipe failed");
  pid_ = spawn(argv, env_strings(env), pipefd[1], log_fd);
  close(pipefd[1]);
  close(log_fd);
  std::string out;
  const auto deadline =
    std::chrono::steady_clock::now() + std::chrono::milliseconds(start_timeout_ms);
  while (std::chrono::steady_clock::now() < deadline) {
    pollfd p{pipefd[0], POLLIN, 0};
    if (poll(&p, 1, 100) <= 0)
      continue;
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
  close(pipefd[0]);
  if (port_ == 0) {
    kill9();
    throw std::runtime_error(name_ + " did not start: " + out + slurp(log_path_));
  }
}

child_process::~child_process() {
  if (pid_ > 0 && signal_and_wait(SIGTERM, 20000) == INT32_MIN)
    kill9();
  if (!log_path_.empty())
    unlink(log_path_.c_str());
}

int child_process::wait_for_exit(int timeout_ms) {
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

int child_process::signal_and_wait(int signal, int timeout_ms) {
  if (pid_ <= 0)
    return 0;
  kill(pid_, signal);
  return wait_for_exit(timeout_ms);
}

void child_process::kill9() {
  if (pid_ <= 0)
    return;
  kill(pid_, SIGKILL);
  wait_for_exit(10000);
}

std::string child_process::log() const {
  return slurp(log_path_);
}

run_result run_child(const std::vector<std::string>& argv,
                     const std::map<std::string, std::string>& env, int timeout_ms) {
  int fd = -1;
  const auto path = temp_file("child-run", &fd);
  const pid_t pid = spawn(argv, env_strings(env), fd, fd);
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
  run_result r{WIFEXITED(status) ? WEXITSTATUS(status) : -WTERMSIG(status), slurp(path)};
  unlink(path.c_str());
  return r;
}

std::pair<int, std::string> run_shell(const std::string& command) {
  std::string out;
  FILE* p = popen(command.c_str(), "r");
  if (!p)
    return {-1, "popen failed"};
  char buf[4096];
  std::size_t n;
  while ((n = fread(buf, 1, sizeof buf, p)) > 0)
    out.append(buf, n);
  const int status = pclose(p);
  return {WIFEXITED(status) ? WEXITSTATUS(status) : -1, out};
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

} // namespace smsd::test
