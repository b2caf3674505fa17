// Names of sequence states, for logs and errors.
#include "scheduler/sequence.h"

namespace dsinfer {

std::string_view SequenceStatusName(SequenceStatus status) {
  switch (status) {
    case SequenceStatus::kWaiting: return "waiting";
    case SequenceStatus::kRunning: return "running";
    case SequenceStatus::kPreempted: return "preempted";
    case SequenceStatus::kFinished: return "finished";
  }
  return "unknown";
}

}  // namespace dsinfer
