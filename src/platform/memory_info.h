// AvailableMemoryBytes: what the system says a new allocation can take without swapping
// (Linux's MemAvailable: free memory plus the page cache and other reclaimable memory), for
// budgets sized at load: the KV cache's (engine/engine.h) and the weight copies'
// (model/model_weights.h).
//
// Thread safety: reads /proc on each call; safe from any thread.
#ifndef DSINFER_PLATFORM_MEMORY_INFO_H_
#define DSINFER_PLATFORM_MEMORY_INFO_H_

#include <cstdint>

namespace dsinfer {

// MemAvailable from /proc/meminfo in bytes; 0 when unknown.
int64_t AvailableMemoryBytes();

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_MEMORY_INFO_H_
