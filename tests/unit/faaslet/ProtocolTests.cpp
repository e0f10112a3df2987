// The scheduler/zygote/Faaslet message framing.
#include "Protocol.h"

#include <doctest/doctest.h>

#include <sys/socket.h>
#include <thread>
#include <unistd.h>

using namespace faasm::faaslet::protocol;

TEST_CASE("messages keep their fields and payload, large ones too") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  std::vector<uint8_t> big(3 << 20);
  for (size_t i = 0; i < big.size(); ++i)
    big[i] = uint8_t(i * 7);
  std::thread writer([&] {
    CHECK(send(sv[0], Msg::Await, 42, -7));
    CHECK(send(sv[0], Msg::Result, 3, 125, big.data(), big.size()));
  });
  Message m;
  REQUIRE(receive(sv[1], m));
  CHECK(m.type == Msg::Await);
  CHECK(m.a == 42);
  CHECK(m.b == -7);
  CHECK(m.payload.empty());
  REQUIRE(receive(sv[1], m));
  CHECK(m.type == Msg::Result);
  CHECK(m.payload == big);
  writer.join();
  close(sv[0]);
  CHECK_FALSE(receive(sv[1], m)); // EOF
  close(sv[1]);
}

TEST_CASE("a spawn passes a descriptor") {
  int control[2], channel[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, control) == 0);
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, channel) == 0);
  REQUIRE(send(control[0], Msg::Spawn, 5, 0, nullptr, 0, channel[1]));
  close(channel[1]);
  Message m;
  int fd = -1;
  REQUIRE(receive(control[1], m, &fd));
  CHECK(m.type == Msg::Spawn);
  CHECK(m.a == 5);
  REQUIRE(fd >= 0);
  const char text[] = "hi";
  REQUIRE(send(fd, Msg::Input, 0, 0, text, 2));
  REQUIRE(receive(channel[0], m));
  CHECK(m.type == Msg::Input);
  CHECK(std::string(m.payload.begin(), m.payload.end()) == "hi");
  close(fd);
  close(channel[0]);
  close(control[0]);
  close(control[1]);
}

TEST_CASE("a payload length beyond the limit is refused") {
  int sv[2];
  REQUIRE(socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0);
  Header h{uint32_t(Msg::Input), 0, 0, 0, kMaxPayload + 1};
  REQUIRE(::send(sv[0], &h, sizeof h, 0) == ssize_t(sizeof h));
  Message m;
  CHECK_FALSE(receive(sv[1], m));
  close(sv[0]);
  close(sv[1]);
}
