// The cgroup keeper of a confined zygote (see CgroupKeeper in Isolation.h).
//
// SUBTLE: the keeper is root and outlives nothing but its zygote; the zygote
// runs guest code (initialisation) and may be hijacked, so everything it
// sends is hostile. The keeper therefore takes a slot number and nothing
// else (names, limits and directories are its own), holds no descriptor but
// its socket (and the scheduler's control socket until initialisation is
// over), and on the socket's end removes only the groups it made.
// One request, one reply, on a SOCK_SEQPACKET socketpair: the zygote asks
// for a group (the reply carries its cgroup.procs descriptors), for the
// memory-limit verdict of a slot whose Faaslet ended, or says its
// initialisation is over. The keeper trusts nothing it is told beyond a slot
// number: the names and limits are its own.
#include "IsolationPrivate.h"
#include "faasm/isolation/Isolation.h"

#include <cstring>
#include <map>
#include <sys/prctl.h>
#include <sys/socket.h>

namespace faasm::isolation {
namespace {

enum class Op : uint32_t { Create = 1, Release = 2, Initialised = 3 };

struct Request {
  Op op;
  uint32_t slot;
};

struct Reply {
  int32_t result; // Create: descriptors attached; Release: 1 if the memory limit acted
};

constexpr size_t kMaxFds = 8;
// More groups than any zygote has Faaslets alive at once: a hijacked zygote
// asking for more gets none (each is a directory made as root).
constexpr uint32_t kMaxSlots = 4096;

bool sendReply(int sock, Reply reply, const std::vector<int>& fds) {
  iovec iov{&reply, sizeof reply};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)]{};
  if (!fds.empty() && fds.size() <= kMaxFds) {
    msg.msg_control = control;
    msg.msg_controllen = CMSG_SPACE(sizeof(int) * fds.size());
    cmsghdr* c = CMSG_FIRSTHDR(&msg);
    c->cmsg_level = SOL_SOCKET;
    c->cmsg_type = SCM_RIGHTS;
    c->cmsg_len = CMSG_LEN(sizeof(int) * fds.size());
    std::memcpy(CMSG_DATA(c), fds.data(), sizeof(int) * fds.size());
  }
  ssize_t n;
  while ((n = ::sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == ssize_t(sizeof reply);
}

bool receiveReply(int sock, Reply& reply, std::vector<int>* fds) {
  iovec iov{&reply, sizeof reply};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  alignas(cmsghdr) char control[CMSG_SPACE(sizeof(int) * kMaxFds)]{};
  msg.msg_control = control;
  msg.msg_controllen = sizeof control;
  ssize_t n;
  while ((n = ::recvmsg(sock, &msg, MSG_CMSG_CLOEXEC)) < 0 && errno == EINTR) {
  }
  for (cmsghdr* c = CMSG_FIRSTHDR(&msg); c; c = CMSG_NXTHDR(&msg, c)) {
    if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS) continue;
    size_t count = (c->cmsg_len - CMSG_LEN(0)) / sizeof(int);
    std::vector<int> got(count);
    std::memcpy(got.data(), CMSG_DATA(c), sizeof(int) * count);
    for (int fd : got) {
      // The Faaslet writes to these after fork: no close-on-exec matters,
      // but nothing execs either.
      if (fds)
        fds->push_back(fd);
      else
        ::close(fd);
    }
  }
  return n == ssize_t(sizeof reply);
}

// sendmsg, not send (sendto): the zygote's seccomp filter allows only
// sendmsg/recvmsg on sockets.
bool request(int sock, Op op, uint32_t slot) {
  Request r{op, slot};
  iovec iov{&r, sizeof r};
  msghdr msg{};
  msg.msg_iov = &iov;
  msg.msg_iovlen = 1;
  ssize_t n;
  while ((n = ::sendmsg(sock, &msg, MSG_NOSIGNAL)) < 0 && errno == EINTR) {
  }
  return n == ssize_t(sizeof r);
}

// The process start time of `pid` (/proc/<pid>/stat field 22), 0 if gone.
uint64_t startTimeOf(pid_t pid) {
  auto text = detail::readFile("/proc/" + std::to_string(pid) + "/stat");
  if (!text) return 0;
  size_t paren = text->rfind(')');
  if (paren == std::string::npos) return 0;
  const char* p = text->c_str() + paren + 1;
  // Fields after the command: state is field 3, starttime field 22.
  for (int field = 3; field < 22 && *p; ++field) {
    while (*p == ' ')
      ++p;
    while (*p && *p != ' ')
      ++p;
  }
  return std::strtoull(p, nullptr, 10);
}

[[noreturn]] void keeperMain(const IsolationPlan& plan, int sock, int reportFd, pid_t owner,
                             const std::function<void(bool)>& onInitDeath) {
  closeInheritedDescriptors({sock, reportFd});
  ::prctl(PR_SET_NAME, "faasm-cgkeeper", 0, 0, 0);
  const std::string id = std::to_string(owner) + "-" + std::to_string(startTimeOf(owner));
  std::map<uint32_t, std::unique_ptr<Cgroup>> groups;
  bool initialised = false;
  for (;;) {
    Request r{};
    ssize_t n = ::recv(sock, &r, sizeof r, 0);
    if (n < 0 && errno == EINTR) continue;
    if (n != ssize_t(sizeof r)) break; // the zygote is gone
    if (r.op == Op::Initialised) {
      initialised = true;
      if (reportFd >= 0) ::close(reportFd);
      reportFd = -1;
    } else if (r.op == Op::Create && r.slot > kMaxSlots) {
      sendReply(sock, Reply{0}, {});
    } else if (r.op == Op::Create) {
      std::string name =
          r.slot == 0 ? "zygote-" + id : "faaslet-" + id + "-" + std::to_string(r.slot);
      auto& group = groups[r.slot];
      if (!group) group = CgroupManager::get().create(name, plan.limits());
      std::vector<int> fds = group ? group->procsDescriptors() : std::vector<int>{};
      sendReply(sock, Reply{int32_t(fds.size())}, fds);
    } else if (r.op == Op::Release) {
      auto it = groups.find(r.slot);
      bool hit = false;
      if (it != groups.end() && it->second) {
        hit = it->second->memoryLimitHit();
        it->second->rearm();
      }
      sendReply(sock, Reply{hit ? 1 : 0}, {});
    }
  }
  if (!initialised && onInitDeath) {
    auto it = groups.find(0);
    onInitDeath(it != groups.end() && it->second && it->second->memoryLimitHit());
  }
  if (reportFd >= 0) ::close(reportFd);
  groups.clear(); // kills what is left inside, removes the directories
  ::_exit(0);
}

} // namespace

std::unique_ptr<CgroupKeeper> CgroupKeeper::start(const IsolationPlan& plan, int reportFd,
                                                  std::function<void(bool)> onInitDeath) {
  int sv[2];
  if (::socketpair(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0, sv) != 0) {
    warnOnce("cgroup",
             std::string("cannot create the keeper's socketpair: ") + std::strerror(errno));
    return nullptr;
  }
  pid_t owner = ::getpid();
  pid_t pid = ::fork();
  if (pid == 0) {
    ::close(sv[0]);
    keeperMain(plan, sv[1], reportFd, owner, onInitDeath);
  }
  ::close(sv[1]);
  if (pid < 0) {
    warnOnce("cgroup", std::string("cannot fork the cgroup keeper: ") + std::strerror(errno));
    ::close(sv[0]);
    return nullptr;
  }
  std::unique_ptr<CgroupKeeper> keeper(new CgroupKeeper);
  keeper->socket_ = sv[0];
  keeper->pid_ = pid;
  return keeper;
}

CgroupKeeper::~CgroupKeeper() {
  if (socket_ >= 0) ::close(socket_);
}

std::vector<int> CgroupKeeper::create(uint32_t slot) {
  std::vector<int> fds;
  Reply reply{};
  if (!request(socket_, Op::Create, slot) || !receiveReply(socket_, reply, &fds)) {
    for (int fd : fds)
      ::close(fd);
    return {};
  }
  return fds;
}

bool CgroupKeeper::release(uint32_t slot) {
  Reply reply{};
  return request(socket_, Op::Release, slot) && receiveReply(socket_, reply, nullptr) &&
         reply.result == 1;
}

void CgroupKeeper::markInitialised() {
  request(socket_, Op::Initialised, 0);
}

namespace detail {
uint64_t processStartTime(pid_t pid) {
  return startTimeOf(pid);
}
} // namespace detail

} // namespace faasm::isolation
