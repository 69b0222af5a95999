#include "comm/communicator.h"

#include <cstring>
#include <new>

namespace dtrain::comm {

void Communicator::AlignedFree::operator()(float* p) const {
  ::operator delete (p, std::align_val_t{64});
}

std::span<float> Communicator::allocate_array(std::size_t floats) {
  // At least one float, so that an empty array still has an address of its own.
  const std::size_t bytes = (floats == 0 ? 1 : floats) * sizeof(float);
  auto* p = static_cast<float*>(::operator new (bytes, std::align_val_t{64}));
  std::memset(p, 0, bytes);
  private_arrays_.emplace_back(p);
  return {p, floats};
}

}  // namespace dtrain::comm
