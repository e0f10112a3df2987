// The network of a zygote granted it (IsolationLimits::network, faasm-run
// --net), made as root in confineZygote before privileges go: its own
// network namespace joined to the host's by a veth pair, bandwidth shaped
// by tc (tbf) at both ends, and routes only to what the operator allows.
//
// SUBTLE: what confines is what is absent. The Faaslet's end has one /32
// address and no subnet, so nothing is on-link: the only routes are those
// to the allowed networks, through the host's end, and everything else
// (the host's own addresses, the host's end itself, other Faaslets' ends)
// is ENETUNREACH at once. IPv6 is off on both ends, or link-local
// addresses would reach the host's end without a route. The Faaslet has
// no CAP_NET_ADMIN to change any of it (capabilities go next). The
// namespace lives as long as the zygote and its Faaslets: when the last
// ends, however (exit, kill, crash), the kernel deletes the namespace, the
// veth pair with it, and the host's end's address, route and qdisc with
// that. Nothing is left to clean up, and no cleanup can be missed.
//
// Addressing: the /30 at 100.64.0.0 + 4 * (pid mod 2^20) (shared address
// space, RFC 6598): host end .1 ("fnet<pid>"), Faaslet end .2 ("eth0").
// Live pids are distinct, so live zygotes' blocks are too while pids stay
// below 2^20 (Linux's default pid_max is 2^22: a clash then fails the
// `ip addr add`, and the zygote with it, never shares a block).
#include "IsolationPrivate.h"
#include "faasm/isolation/Isolation.h"

#include <algorithm>
#include <arpa/inet.h>
#include <cctype>
#include <cerrno>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <sched.h>
#include <string>
#include <sys/wait.h>
#include <unistd.h>
#include <vector>

namespace faasm::isolation {

namespace {

std::string findTool(const char* name) {
  for (const char* dir : {"/usr/sbin/", "/sbin/", "/usr/bin/", "/bin/"}) {
    std::string path = std::string(dir) + name;
    if (::access(path.c_str(), X_OK) == 0) return path;
  }
  return {};
}

// Runs argv (argv[0] a full path) to its end, in network namespace `ns`
// (-1: this process's). Its stdout goes nowhere, its stderr is ours (what
// ip or tc says about a failure). Returns an empty string or what failed.
std::string runTool(const std::vector<std::string>& argv, int ns) {
  pid_t pid = ::fork();
  if (pid < 0) return std::string("fork: ") + std::strerror(errno);
  if (pid == 0) {
    if (ns >= 0 && ::setns(ns, CLONE_NEWNET) != 0) ::_exit(126);
    int devnull = ::open("/dev/null", O_WRONLY | O_CLOEXEC);
    if (devnull >= 0) ::dup2(devnull, 1);
    std::vector<char*> args;
    for (const std::string& a : argv)
      args.push_back(const_cast<char*>(a.c_str()));
    args.push_back(nullptr);
    char* const env[] = {nullptr};
    ::execve(args[0], args.data(), env);
    ::_exit(127);
  }
  int status = 0;
  while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
  }
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return {};
  std::string line;
  for (const std::string& a : argv)
    line += (line.empty() ? "" : " ") + a;
  return line + ": " +
         (WIFEXITED(status) ? "exit status " + std::to_string(WEXITSTATUS(status))
                            : "killed by signal " + std::to_string(WTERMSIG(status)));
}

// Writes "1" to /proc/sys/net/ipv6/conf/<dev>/disable_ipv6 of namespace
// `ns` (-1: this process's), in a child when it is another namespace.
std::string disableIpv6(const std::string& dev, int ns) {
  auto write = [&dev]() -> int {
    std::string path = "/proc/sys/net/ipv6/conf/" + dev + "/disable_ipv6";
    int fd = ::open(path.c_str(), O_WRONLY | O_CLOEXEC);
    if (fd < 0) return errno == ENOENT ? 0 : errno; // a kernel without IPv6
    int err = ::write(fd, "1", 1) == 1 ? 0 : errno;
    ::close(fd);
    return err;
  };
  int err;
  if (ns < 0) {
    err = write();
  } else {
    pid_t pid = ::fork();
    if (pid < 0) return std::string("fork: ") + std::strerror(errno);
    if (pid == 0) ::_exit(::setns(ns, CLONE_NEWNET) != 0 ? 1 : write() ? 2 : 0);
    int status = 0;
    while (::waitpid(pid, &status, 0) < 0 && errno == EINTR) {
    }
    err = WIFEXITED(status) && WEXITSTATUS(status) == 0 ? 0 : EIO;
  }
  return err ? "disable IPv6 on " + dev + ": " + std::strerror(err) : std::string();
}

std::string dotted(uint32_t hostOrder) {
  in_addr a{htonl(hostOrder)};
  char text[INET_ADDRSTRLEN];
  ::inet_ntop(AF_INET, &a, text, sizeof text);
  return text;
}

bool parseRate(const std::string& text, double& bitsPerSecond) {
  size_t digits = 0;
  while (digits < text.size() && (std::isdigit(uint8_t(text[digits])) || text[digits] == '.'))
    ++digits;
  if (digits == 0 || digits > 12) return false;
  std::string unit = text.substr(digits);
  double value = std::strtod(text.substr(0, digits).c_str(), nullptr);
  double scale = unit == "bit"    ? 1
                 : unit == "kbit" ? 1e3
                 : unit == "mbit" ? 1e6
                 : unit == "gbit" ? 1e9
                                  : 0;
  bitsPerSecond = value * scale;
  return scale > 0 && bitsPerSecond >= 8000 && bitsPerSecond <= 100e9 &&
         std::isfinite(bitsPerSecond);
}

bool parseCidr(const std::string& text, uint32_t& network, uint32_t& prefix) {
  size_t slash = text.find('/');
  std::string addr = text.substr(0, slash);
  in_addr a{};
  if (::inet_pton(AF_INET, addr.c_str(), &a) != 1) return false;
  prefix = 32;
  if (slash != std::string::npos) {
    std::string p = text.substr(slash + 1);
    if (p.empty() || p.size() > 2 || p.find_first_not_of("0123456789") != std::string::npos)
      return false;
    prefix = uint32_t(std::stoul(p));
    if (prefix > 32) return false;
  }
  uint32_t mask = prefix ? ~uint32_t(0) << (32 - prefix) : 0;
  network = ntohl(a.s_addr) & mask;
  return true;
}

} // namespace

std::string checkNetworkLimits(const IsolationLimits& limits) {
  double bits = 0;
  if (!parseRate(limits.netRate, bits))
    return "--net-rate " + limits.netRate + ": not a rate (e.g. 100mbit, 10mbit, 500kbit)";
  for (const std::string& cidr : limits.netAllow) {
    uint32_t net = 0, prefix = 0;
    if (!parseCidr(cidr, net, prefix))
      return "--net-allow " + cidr + ": not an IPv4 network (e.g. 10.0.0.0/8, 192.0.2.7/32)";
  }
  return {};
}

std::string detail::joinGrantedNetwork(const IsolationLimits& limits) {
  if (std::string e = checkNetworkLimits(limits); !e.empty()) return e;
  const std::string ip = findTool("ip"), tc = findTool("tc");
  if (ip.empty() || tc.empty()) return "ip and tc (iproute2) are needed to grant the network";
  double bits = 0;
  parseRate(limits.netRate, bits);
  // tbf's bucket: 10 ms of traffic at the rate, at least 32 KiB (a few
  // full-size segments; the kernel needs one MTU at the very least).
  const std::string burst = std::to_string(std::max<uint64_t>(uint64_t(bits / 8 / 100), 32768));

  const pid_t self = ::getpid();
  const uint32_t block = (100u << 24 | 64u << 16) + 4 * (uint32_t(self) & 0xFFFFF);
  const std::string hostAddr = dotted(block + 1), faasletAddr = dotted(block + 2);
  const std::string hostDev = "fnet" + std::to_string(self), dev = "eth0";

  int hostNs = ::open("/proc/self/ns/net", O_RDONLY | O_CLOEXEC);
  if (hostNs < 0) return std::string("open /proc/self/ns/net: ") + std::strerror(errno);
  struct Close {
    int fd;
    ~Close() { ::close(fd); }
  } closeHostNs{hostNs};
  if (::unshare(CLONE_NEWNET) != 0)
    return std::string("unshare(CLONE_NEWNET): ") + std::strerror(errno);

  const std::string pid = std::to_string(self);
  const std::vector<std::pair<std::vector<std::string>, int>> steps = {
      // The pair, made from the host's side with our end moved in here.
      {{ip, "link", "add", hostDev, "type", "veth", "peer", "name", dev, "netns", pid}, hostNs},
      {{ip, "addr", "add", hostAddr + "/32", "dev", hostDev}, hostNs},
      {{ip, "link", "set", hostDev, "up"}, hostNs},
      {{ip, "route", "add", faasletAddr + "/32", "dev", hostDev}, hostNs},
      // Traffic to the Faaslet (its ingress) is shaped on the host's end,
      // its egress on its own end.
      {{tc, "qdisc", "add", "dev", hostDev, "root", "tbf", "rate", limits.netRate, "burst", burst,
        "latency", "50ms"},
       hostNs},
      {{ip, "link", "set", "lo", "up"}, -1},
      {{ip, "addr", "add", faasletAddr + "/32", "dev", dev}, -1},
      {{ip, "link", "set", dev, "up"}, -1},
      {{tc, "qdisc", "add", "dev", dev, "root", "tbf", "rate", limits.netRate, "burst", burst,
        "latency", "50ms"},
       -1},
  };
  for (const auto& [argv, ns] : steps) {
    if (std::string e = runTool(argv, ns); !e.empty()) return e;
    if (argv[1] == "link" && argv[2] == "add") {
      // Before either end is up: no link-local address is ever made.
      if (std::string e = disableIpv6(hostDev, hostNs); !e.empty()) return e;
      if (std::string e = disableIpv6(dev, -1); !e.empty()) return e;
    }
  }
  for (const std::string& cidr : limits.netAllow) {
    uint32_t net = 0, prefix = 0;
    parseCidr(cidr, net, prefix);
    std::string route = dotted(net) + "/" + std::to_string(prefix);
    if (std::string e =
            runTool({ip, "route", "add", route, "via", hostAddr, "dev", dev, "onlink"}, -1);
        !e.empty())
      return e;
  }
  return {};
}

} // namespace faasm::isolation
