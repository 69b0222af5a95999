#include "comm/liveness/heartbeat.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <net/if.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/socket.h>
#include <unistd.h>

#include <array>
#include <cerrno>
#include <cstring>

#include "core/errors.h"

namespace dtrain::comm::liveness {
namespace {

constexpr std::uint32_t kMagic = 0x64744842;  // "dtHB"

// Little-endian fixed layout, independent of the compiler's struct padding.
template <typename T>
void put(std::array<std::byte, kBeatBytes>& out, std::size_t at, T value) {
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    out[at + i] = static_cast<std::byte>((static_cast<std::uint64_t>(value) >> (8 * i)) & 0xff);
  }
}

template <typename T>
T get(std::span<const std::byte> in, std::size_t at) {
  std::uint64_t v = 0;
  for (std::size_t i = 0; i < sizeof(T); ++i) {
    v |= static_cast<std::uint64_t>(in[at + i]) << (8 * i);
  }
  return static_cast<T>(v);
}

std::string errno_text(const char* call) {
  return std::string(call) + ": " + std::strerror(errno);
}

}  // namespace

std::array<std::byte, kBeatBytes> encode(const Beat& b) {
  std::array<std::byte, kBeatBytes> out{};
  put(out, 0, kMagic);
  put(out, 4, b.job);
  put(out, 8, static_cast<std::uint32_t>(b.rank));
  put(out, 12, b.sequence);
  put(out, 16, static_cast<std::uint64_t>(b.step));
  put(out, 24, static_cast<std::uint8_t>(b.phase));
  put(out, 25, static_cast<std::uint8_t>(b.waiting ? 1 : 0));
  put(out, 26, static_cast<std::uint8_t>(b.kind));
  put(out, 28, static_cast<std::uint32_t>(b.index));
  put(out, 32, static_cast<std::uint32_t>(b.peer));
  put(out, 36, b.waited_ms);
  return out;
}

std::optional<Beat> decode(std::span<const std::byte> in, std::uint32_t job, int ranks) {
  if (in.size() != kBeatBytes || get<std::uint32_t>(in, 0) != kMagic) return std::nullopt;
  Beat b;
  b.job = get<std::uint32_t>(in, 4);
  b.rank = static_cast<std::int32_t>(get<std::uint32_t>(in, 8));
  b.sequence = get<std::uint32_t>(in, 12);
  b.step = static_cast<std::int64_t>(get<std::uint64_t>(in, 16));
  const auto phase = get<std::uint8_t>(in, 24);
  const auto waiting = get<std::uint8_t>(in, 25);
  const auto kind = get<std::uint8_t>(in, 26);
  b.index = static_cast<std::int32_t>(get<std::uint32_t>(in, 28));
  b.peer = static_cast<std::int32_t>(get<std::uint32_t>(in, 32));
  b.waited_ms = get<std::uint32_t>(in, 36);
  if (b.job != job || b.rank < 0 || b.rank >= ranks || phase > 4 || waiting > 1 || kind > 5 ||
      b.peer < -1 || b.peer >= ranks) {
    return std::nullopt;
  }
  b.phase = static_cast<Phase>(phase);
  b.waiting = waiting == 1;
  b.kind = static_cast<CollectiveKind>(kind);
  return b;
}

std::string to_string(const Endpoint& e) {
  in_addr a{};
  a.s_addr = htonl(e.address);
  char text[INET_ADDRSTRLEN] = {};
  inet_ntop(AF_INET, &a, text, sizeof text);
  return std::string(text) + ":" + std::to_string(e.port);
}

BeatSocket::BeatSocket() {
  fd_ = ::socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
  if (fd_ < 0) throw CommError("heartbeat " + errno_text("socket"));
  sockaddr_in any{};
  any.sin_family = AF_INET;
  any.sin_addr.s_addr = htonl(INADDR_ANY);
  any.sin_port = 0;
  socklen_t len = sizeof any;
  if (::bind(fd_, reinterpret_cast<sockaddr*>(&any), sizeof any) != 0 ||
      ::getsockname(fd_, reinterpret_cast<sockaddr*>(&any), &len) != 0) {
    const std::string what = errno_text("bind");
    ::close(fd_);
    throw CommError("heartbeat " + what);
  }
  port_ = ntohs(any.sin_port);
}

BeatSocket::~BeatSocket() {
  if (fd_ >= 0) ::close(fd_);
}

std::vector<Endpoint> BeatSocket::endpoints() const {
  std::vector<Endpoint> out;
  ifaddrs* list = nullptr;
  if (::getifaddrs(&list) == 0) {
    for (ifaddrs* i = list; i != nullptr && out.size() < kMaxEndpoints; i = i->ifa_next) {
      if (i->ifa_addr == nullptr || i->ifa_addr->sa_family != AF_INET) continue;
      if ((i->ifa_flags & IFF_UP) == 0 || (i->ifa_flags & IFF_LOOPBACK) != 0) continue;
      const auto* a = reinterpret_cast<const sockaddr_in*>(i->ifa_addr);
      out.push_back({ntohl(a->sin_addr.s_addr), port_});
    }
    ::freeifaddrs(list);
  }
  if (out.empty()) out.push_back({INADDR_LOOPBACK, port_});
  return out;
}

void BeatSocket::send(const Beat& beat, const std::vector<Endpoint>& to) {
  const auto bytes = encode(beat);
  for (const auto& e : to) {
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_addr.s_addr = htonl(e.address);
    a.sin_port = htons(e.port);
    // Errors (EAGAIN, ENETUNREACH while a link is down) lose this beat only.
    (void)::sendto(fd_, bytes.data(), bytes.size(), MSG_DONTWAIT, reinterpret_cast<sockaddr*>(&a),
                   sizeof a);
  }
}

std::vector<std::vector<std::byte>> BeatSocket::receive(int timeout_ms) {
  std::vector<std::vector<std::byte>> out;
  pollfd p{fd_, POLLIN, 0};
  if (::poll(&p, 1, timeout_ms) <= 0) return out;
  std::array<std::byte, 512> buffer{};
  for (;;) {
    const ssize_t n = ::recv(fd_, buffer.data(), buffer.size(), MSG_DONTWAIT);
    if (n < 0) break;  // EAGAIN: drained
    out.emplace_back(buffer.begin(), buffer.begin() + n);
  }
  return out;
}

}  // namespace dtrain::comm::liveness
