#include "testing/in_process_transport.h"

#include <algorithm>
#include <exception>
#include <string>
#include <thread>

#include "core/errors.h"

namespace dtrain::test {

InProcessTransport::InProcessTransport(InProcessNetwork& network, int rank)
    : network_(network), rank_(rank) {}

int InProcessTransport::size() const {
  return network_.size();
}

void InProcessTransport::start_send(std::span<const float> data, int to) {
  network_.check_rank(to, "start_send");
  network_.deliver(rank_, to, data);
  ++messages_sent_;
}

void InProcessTransport::start_recv(std::span<float> data, int from) {
  network_.check_rank(from, "start_recv");
  recvs_.push_back({data, from, false});
}

void InProcessTransport::wait_recv(std::size_t index) {
  if (index >= recvs_.size()) {
    throw CommError("rank " + std::to_string(rank_) + ": wait_recv(" + std::to_string(index) +
                    ") but only " + std::to_string(recvs_.size()) + " receives were started");
  }
  // Earlier receives from the same sender match earlier messages (non-overtaking), so they
  // complete first; receives from other senders are left alone, as MPI would.
  for (std::size_t j = 0; j <= index; ++j) {
    if (recvs_[j].from == recvs_[index].from) {
      complete(j);
    }
  }
}

void InProcessTransport::wait_all() {
  for (std::size_t j = 0; j < recvs_.size(); ++j) {
    complete(j);
  }
  recvs_.clear();
}

void InProcessTransport::complete(std::size_t index) {
  PendingRecv& recv = recvs_[index];
  if (recv.done) {
    return;
  }
  std::vector<float> message = network_.take(recv.from, rank_);
  // Stricter than MPI (which accepts shorter messages): a length mismatch is always a bug
  // in the algorithm under test, so make it loud.
  if (message.size() != recv.data.size()) {
    throw CommError("rank " + std::to_string(rank_) + ": message from rank " +
                    std::to_string(recv.from) + " has " + std::to_string(message.size()) +
                    " floats, receive expected " + std::to_string(recv.data.size()));
  }
  std::copy(message.begin(), message.end(), recv.data.begin());
  recv.done = true;
}

InProcessNetwork::InProcessNetwork(int size, std::chrono::milliseconds timeout)
    : size_(size), timeout_(timeout), deposits_(static_cast<std::size_t>(std::max(size, 0))) {
  if (size < 1) {
    throw ConfigError("in-process network needs at least 1 rank, got " + std::to_string(size));
  }
  for (int r = 0; r < size; ++r) {
    inboxes_.push_back(std::make_unique<Inbox>());
    inboxes_.back()->from.resize(static_cast<std::size_t>(size));
    transports_.push_back(std::make_unique<InProcessTransport>(*this, r));
  }
}

comm::PeerTransport& InProcessNetwork::transport(int rank) {
  return in_process_transport(rank);
}

InProcessTransport& InProcessNetwork::in_process_transport(int rank) {
  check_rank(rank, "transport");
  return *transports_[static_cast<std::size_t>(rank)];
}

void InProcessNetwork::check_rank(int rank, const char* what) const {
  if (rank < 0 || rank >= size_) {
    throw CommError(std::string(what) + ": rank " + std::to_string(rank) + " out of range for " +
                    std::to_string(size_) + " ranks");
  }
}

void InProcessNetwork::deliver(int from, int to, std::span<const float> data) {
  Inbox& inbox = *inboxes_[static_cast<std::size_t>(to)];
  {
    std::lock_guard lock(inbox.mutex);
    inbox.from[static_cast<std::size_t>(from)].emplace_back(data.begin(), data.end());
  }
  inbox.arrived.notify_all();
}

std::vector<float> InProcessNetwork::take(int from, int to) {
  Inbox& inbox = *inboxes_[static_cast<std::size_t>(to)];
  auto& queue = inbox.from[static_cast<std::size_t>(from)];
  std::unique_lock lock(inbox.mutex);
  const bool ready =
      inbox.arrived.wait_for(lock, timeout_, [&] { return !queue.empty() || shut_down_.load(); });
  if (!queue.empty()) {
    std::vector<float> message = std::move(queue.front());
    queue.pop_front();
    return message;
  }
  const std::string what =
      " waiting for a message from rank " + std::to_string(from) + " on rank " + std::to_string(to);
  if (ready) {
    throw NetworkShutDown("network shut down" + what);
  }
  throw CommError("timed out" + what);
}

std::vector<std::vector<std::byte>> InProcessNetwork::exchange(int rank,
                                                               std::span<const std::byte> mine) {
  check_rank(rank, "exchange");
  std::unique_lock lock(exchange_mutex_);
  if (shut_down_) {
    throw NetworkShutDown("network shut down before a collective on rank " + std::to_string(rank));
  }
  deposits_[static_cast<std::size_t>(rank)].assign(mine.begin(), mine.end());
  if (++arrived_ == size_) {
    // The last rank publishes a snapshot; slower ranks copy it before any of them can
    // complete the next exchange, which needs every rank to arrive again.
    published_ = deposits_;
    arrived_ = 0;
    ++generation_;
    exchange_done_.notify_all();
    return published_;
  }
  const unsigned long long generation = generation_;
  const bool done = exchange_done_.wait_for(
      lock, timeout_, [&] { return generation_ != generation || shut_down_.load(); });
  if (generation_ != generation) {
    return published_;
  }
  const std::string what = " in a collective on rank " + std::to_string(rank) + " (" +
                           std::to_string(arrived_) + " of " + std::to_string(size_) +
                           " ranks arrived)";
  if (done) {
    throw NetworkShutDown("network shut down" + what);
  }
  throw CommError("timed out" + what);
}

void InProcessNetwork::shut_down() {
  shut_down_ = true;
  for (auto& inbox : inboxes_) {
    { std::lock_guard lock(inbox->mutex); }
    inbox->arrived.notify_all();
  }
  { std::lock_guard lock(exchange_mutex_); }
  exchange_done_.notify_all();
}

void run_ranks(int size, const std::function<void(int rank, comm::PeerTransport&)>& fn) {
  InProcessNetwork network(size);
  run_ranks(network, fn);
}

void run_ranks(InProcessNetwork& network,
               const std::function<void(int rank, comm::PeerTransport&)>& fn) {
  std::mutex mutex;
  std::exception_ptr first;       // the first failure that is not a consequence
  std::exception_ptr first_shut;  // the first NetworkShutDown, in case that is all there is
  std::vector<std::thread> threads;
  for (int r = 0; r < network.size(); ++r) {
    threads.emplace_back([&, r] {
      try {
        fn(r, network.transport(r));
      } catch (const NetworkShutDown&) {
        std::lock_guard lock(mutex);
        if (!first_shut) {
          first_shut = std::current_exception();
        }
      } catch (...) {
        {
          std::lock_guard lock(mutex);
          if (!first) {
            first = std::current_exception();
          }
        }
        network.shut_down();
      }
    });
  }
  for (auto& thread : threads) {
    thread.join();
  }
  if (first) {
    std::rethrow_exception(first);
  }
  if (first_shut) {
    std::rethrow_exception(first_shut);
  }
}

}  // namespace dtrain::test
