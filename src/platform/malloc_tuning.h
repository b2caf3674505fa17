// KeepFreedBuffersMapped: lets glibc's malloc reuse the memory of large freed buffers instead
// of returning it to the kernel at each free.
//
// A forward pass allocates its activations per layer (a 512-token prefill of the 1.5B shape:
// two 18 MB gate/up buffers, q/k/v, scores). By default glibc maps each such buffer with mmap
// and unmaps it on free (or trims the heap top), so every layer faults its buffers in again
// page by page, zeroed by the kernel: a quarter of a 512-token prefill went to them. With
// the mmap threshold at its maximum (32 MiB) and the trim threshold at 1 GiB, freed buffers stay
// in the heap and the next layer's allocations reuse them. The cost is that up to 1 GiB of freed
// heap stays resident, next to models of gigabytes.
//
// Call once at start-up, before other threads allocate. Returns false where the C library has
// no such settings (not glibc) or refused them; allocation then works as before.
#ifndef DSINFER_PLATFORM_MALLOC_TUNING_H_
#define DSINFER_PLATFORM_MALLOC_TUNING_H_

namespace dsinfer {

bool KeepFreedBuffersMapped();

}  // namespace dsinfer

#endif  // DSINFER_PLATFORM_MALLOC_TUNING_H_
