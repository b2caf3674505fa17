// The matvec bodies over the x8 row-interleaved layouts (kernels/packed_layout.h) at the
// avx2 level (vpmaddubsw + vpmaddwd). Declarations only, for kernel_table.cc;
// call through a table of this level or higher.
//
// PackedMatvec*(n_in, groups, n_groups, act, y): y[8g + r] = dot(row r of group g, act) for
// g < n_groups; `groups` points at n_groups consecutive packed groups of PackedGroupBytes
// each, `act` at one activation row in the weight type's vec_dot_type (Q8_0, Q8_K).
// PackedGemm*(n_in, groups, n_groups, act, act_row_bytes, n_tokens, y, ldy): the same for
// n_tokens activation rows act_row_bytes apart, token t's outputs at y + t * ldy; each
// token's outputs are bit-identical to the matvec's on its row alone.
#ifndef DSINFER_KERNELS_X86_AVX2_PACKED_X8_H_
#define DSINFER_KERNELS_X86_AVX2_PACKED_X8_H_

#include <cstddef>
#include <cstdint>

namespace dsinfer::kernels::avx2 {

void PackedMatvecQ4_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y);
void PackedMatvecQ8_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y);
void PackedMatvecQ5_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y);
void PackedMatvecQ6_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y);
void PackedMatvecQ4_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y);

void PackedGemmQ4_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void PackedGemmQ5_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void PackedGemmQ8_0(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void PackedGemmQ6_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void PackedMatvecQ2_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y);
void PackedGemmQ2_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void PackedMatvecQ3_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y);
void PackedGemmQ3_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void PackedMatvecQ5_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                      float* y);
void PackedGemmQ5_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);
void PackedGemmQ4_K(int64_t n_in, const std::byte* groups, int64_t n_groups, const std::byte* act,
                    int64_t act_row_bytes, int64_t n_tokens, float* y, int64_t ldy);

}  // namespace dsinfer::kernels::avx2

#endif  // DSINFER_KERNELS_X86_AVX2_PACKED_X8_H_
