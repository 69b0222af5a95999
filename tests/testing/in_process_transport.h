#pragma once
// A real multi-threaded PeerTransport for tests: P ranks are P threads of one process, and
// messages are copied into per-(sender, receiver) FIFO mailboxes. Sends are buffered
// (complete at once); a receive completes when its matching message is there, matched in
// order per sender like MPI. Waits time out with a CommError so a deadlocked algorithm
// fails a test instead of hanging it, and a rank that throws wakes the others up.
#include <atomic>
#include <chrono>
#include <condition_variable>
#include <cstddef>
#include <deque>
#include <functional>
#include <memory>
#include <mutex>
#include <span>
#include <vector>

#include "core/errors.h"
#include "comm/peer_transport.h"

namespace dtrain::test {

class InProcessNetwork;

// What a wait throws once another rank has failed and shut the network down: a
// consequence, so run_ranks reports the original failure instead whenever there is one.
class NetworkShutDown : public CommError {
 public:
  using CommError::CommError;
};

class InProcessTransport final : public comm::PeerTransport {
 public:
  InProcessTransport(InProcessNetwork& network, int rank);

  int rank() const override { return rank_; }
  int size() const override;
  void start_send(std::span<const float> data, int to) override;
  void start_recv(std::span<float> data, int from) override;
  void wait_recv(std::size_t index) override;
  void wait_all() override;

  // Messages this rank has sent so far (tests check that pipelining really chunks).
  std::size_t messages_sent() const { return messages_sent_; }

 private:
  struct PendingRecv {
    std::span<float> data;
    int from;
    bool done;
  };
  void complete(std::size_t index);

  InProcessNetwork& network_;
  int rank_;
  std::vector<PendingRecv> recvs_;
  std::size_t messages_sent_ = 0;
};

class InProcessNetwork {
 public:
  explicit InProcessNetwork(int size, std::chrono::milliseconds timeout = std::chrono::seconds(60));
  InProcessNetwork(const InProcessNetwork&) = delete;
  InProcessNetwork& operator=(const InProcessNetwork&) = delete;

  int size() const { return size_; }
  // The endpoint of one rank; use it only from that rank's thread.
  comm::PeerTransport& transport(int rank);
  InProcessTransport& in_process_transport(int rank);

  // Collective over all ranks: each passes its bytes, all get everyone's, indexed by rank.
  // The building block of InProcessCommunicator's non-ring collectives.
  std::vector<std::vector<std::byte>> exchange(int rank, std::span<const std::byte> mine);

  // Wakes every waiting rank with a CommError; later waits fail at once. Called when a rank
  // throws or aborts, so the others do not wait for messages that will never come.
  void shut_down();

 private:
  friend class InProcessTransport;
  struct Inbox {
    std::mutex mutex;
    std::condition_variable arrived;
    std::vector<std::deque<std::vector<float>>> from;  // indexed by sender
  };
  void deliver(int from, int to, std::span<const float> data);
  std::vector<float> take(int from, int to);
  void check_rank(int rank, const char* what) const;

  int size_;
  std::chrono::milliseconds timeout_;
  std::vector<std::unique_ptr<Inbox>> inboxes_;
  std::vector<std::unique_ptr<InProcessTransport>> transports_;

  std::mutex exchange_mutex_;
  std::condition_variable exchange_done_;
  std::vector<std::vector<std::byte>> deposits_;
  std::vector<std::vector<std::byte>> published_;
  int arrived_ = 0;
  unsigned long long generation_ = 0;
  std::atomic<bool> shut_down_ = false;
};

// Runs fn(rank, transport) on P threads over one network; rethrows the first exception
// that is not a NetworkShutDown (or the first one, if all are), after shutting the network
// down so the other ranks stop waiting and join.
void run_ranks(int size, const std::function<void(int rank, comm::PeerTransport&)>& fn);

// The same with a caller-made network (to pick a timeout or inspect transports afterwards).
void run_ranks(InProcessNetwork& network,
               const std::function<void(int rank, comm::PeerTransport&)>& fn);

}  // namespace dtrain::test
