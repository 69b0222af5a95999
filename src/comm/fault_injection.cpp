#include "comm/fault_injection.h"

#include <cstdlib>
#include <string>

#include "core/errors.h"

namespace dtrain::comm {

std::optional<FaultPlan> fault_plan_from_environment() {
  const char* text = std::getenv("DTRAIN_INJECT_COMM_FAULT");
  if (text == nullptr || *text == '\0') return std::nullopt;
  const std::string value(text);
  const auto colon = value.find(':');
  FaultPlan plan;
  try {
    std::size_t used = 0;
    plan.rank = std::stoi(value.substr(0, colon), &used);
    const bool rank_ok = used == colon;
    const auto call = value.substr(colon == std::string::npos ? value.size() : colon + 1);
    plan.call = std::stoull(call, &used);
    if (!rank_ok || used != call.size() || plan.rank < 0 || plan.call == 0) throw std::exception();
  } catch (const std::exception&) {
    throw ConfigError("DTRAIN_INJECT_COMM_FAULT: got '" + value +
                      "', expected RANK:CALL (the rank and the 1-based float allreduce to fail)");
  }
  return plan;
}

void FaultInjectingCommunicator::count_call(const char* what) {
  if (inner_.rank() == plan_.rank && ++calls_ == plan_.call) {
    throw CommError(std::string("injected transport failure (DTRAIN_INJECT_COMM_FAULT) in ") +
                    what + " #" + std::to_string(plan_.call));
  }
}

void FaultInjectingCommunicator::allreduce_sum(std::span<float> data) {
  count_call("float allreduce");
  inner_.allreduce_sum(data);
}

void FaultInjectingCommunicator::allgather(std::span<const std::uint16_t> mine,
                                           std::span<std::uint16_t> all) {
  count_call("16-bit allgather");
  inner_.allgather(mine, all);
}

void FaultInjectingCommunicator::abort(int exit_code) {
  inner_.abort(exit_code);
  std::abort();  // inner_.abort never returns
}

}  // namespace dtrain::comm
