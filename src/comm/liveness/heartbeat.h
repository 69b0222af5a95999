#pragma once
// The heartbeat: a small UDP datagram every rank sends to every other rank once a period,
// saying where it is (step, phase, the collective it waits in and for how long). It travels
// outside MPI on purpose: the watchdog thread can send and receive it while the rank's
// other threads sit inside MPI (MPI_THREAD_SERIALIZED and FUNNELED forbid a second caller),
// and a rank that is stopped (SIGSTOP, a swapped-out node) or cut off the network stops
// sending it, which is how the other ranks tell "silent" from "slow". Datagrams from another
// job or a corrupted one are dropped (magic, job id, size and field checks).
#include <array>
#include <cstddef>
#include <cstdint>
#include <optional>
#include <span>
#include <string>
#include <vector>

#include "comm/liveness/progress_state.h"

namespace dtrain::comm::liveness {

struct Beat {
  std::uint32_t job = 0;  // the same random number on every rank of one job
  std::int32_t rank = 0;
  std::uint32_t sequence = 0;
  std::int64_t step = 0;
  Phase phase = Phase::kSetup;
  bool waiting = false;
  CollectiveKind kind = CollectiveKind::kOther;
  std::int32_t index = -1;
  std::int32_t peer = -1;
  std::uint32_t waited_ms = 0;  // how long it has waited in that collective
};

constexpr std::size_t kBeatBytes = 40;
std::array<std::byte, kBeatBytes> encode(const Beat& beat);
// nullopt for anything that is not a well-formed beat of this job from a rank in [0, ranks).
std::optional<Beat> decode(std::span<const std::byte> bytes, std::uint32_t job, int ranks);

// One IPv4 endpoint. A rank advertises every address of its up, non-loopback interfaces
// (127.0.0.1 when it has none), so a peer reaches it on whichever network they share.
struct Endpoint {
  std::uint32_t address = 0;  // host byte order
  std::uint16_t port = 0;
};
constexpr std::size_t kMaxEndpoints = 4;
std::string to_string(const Endpoint& e);

// A nonblocking UDP socket bound to every interface on an ephemeral port.
class BeatSocket {
 public:
  BeatSocket();  // throws CommError naming the failing call
  ~BeatSocket();
  BeatSocket(const BeatSocket&) = delete;
  BeatSocket& operator=(const BeatSocket&) = delete;

  // This rank's endpoints (its interface addresses with the socket's port).
  std::vector<Endpoint> endpoints() const;
  // Best effort: a full buffer or an unreachable address loses the datagram, as a lossy
  // network would; the receiver's "silent" needs several periods without any beat.
  void send(const Beat& beat, const std::vector<Endpoint>& to);
  // Waits up to timeout_ms for datagrams; returns the raw datagrams that arrived.
  std::vector<std::vector<std::byte>> receive(int timeout_ms);

 private:
  int fd_ = -1;
  std::uint16_t port_ = 0;
};

}  // namespace dtrain::comm::liveness
