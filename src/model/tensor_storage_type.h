// Which element type a tensor is stored in when a file is written "in type T": llama.cpp's
// rules (llama-quant.cpp llama_tensor_get_type, without the Q*_K_M mixtures of
// quant_mixture.h, i.e. --pure),
// shared/reference/deepseek-models.md §7 "Fallback types":
//   * 1-D tensors (norms, biases, exp_probs_b, rope_freqs) and the router ffn_gate_inp stay
//     F32 (the converter writes them F32 and the quantizer leaves them alone).
//   * A K- or IQ-type needs rows (ne0) that are a multiple of 256; otherwise IQ* -> IQ4_NL,
//     Q2_K and Q3_K -> Q4_0, Q4_K -> Q5_0, Q5_K -> Q5_1, Q6_K -> Q8_0. (The reference's
//     §7 gives Q2_K / Q3_K -> IQ4_NL, llama.cpp's rule before mid-2024; files it writes now
//     hold Q4_0 there.)
//   * If the (fallback) type's block still does not divide ne0: F16.
//
// Thread safety: pure function.
#ifndef DSINFER_MODEL_TENSOR_STORAGE_TYPE_H_
#define DSINFER_MODEL_TENSOR_STORAGE_TYPE_H_

#include "model/tensor_layout.h"
#include "tensor/dtype.h"

namespace dsinfer {

DType StorageTypeFor(const TensorSpec& spec, DType requested);

}  // namespace dsinfer

#endif  // DSINFER_MODEL_TENSOR_STORAGE_TYPE_H_
