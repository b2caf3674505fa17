// SHA-256 chained block hashes (see block_hash.h for the encoding and why SHA-256).
#include "kv_cache/block_hash.h"

#include <openssl/evp.h>

#include "base/check.h"

namespace dsinfer {
namespace {

EVP_MD_CTX* AsContext(void* p) { return static_cast<EVP_MD_CTX*>(p); }

void Update(EVP_MD_CTX* ctx, const void* data, size_t size) {
  DSI_CHECK(EVP_DigestUpdate(ctx, data, size) == 1);
}

void PutU64(EVP_MD_CTX* ctx, uint64_t v) {
  uint8_t le[8];
  for (int i = 0; i < 8; ++i) le[i] = static_cast<uint8_t>(v >> (8 * i));
  Update(ctx, le, sizeof(le));
}

BlockHash Finish(EVP_MD_CTX* ctx) {
  BlockHash out;
  unsigned int size = 0;
  DSI_CHECK(EVP_DigestFinal_ex(ctx, out.bytes.data(), &size) == 1);
  DSI_CHECK(size == out.bytes.size());
  return out;
}

}  // namespace

void BlockHasher::ContextDeleter::operator()(void* ctx) const { EVP_MD_CTX_free(AsContext(ctx)); }

BlockHasher::BlockHasher(std::string_view seed) : ctx_(EVP_MD_CTX_new()) {
  DSI_CHECK(ctx_ != nullptr);
  EVP_MD_CTX* ctx = AsContext(ctx_.get());
  DSI_CHECK(EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1);
  constexpr std::string_view kDomain = "dsinfer-kv-root";
  Update(ctx, kDomain.data(), kDomain.size());
  PutU64(ctx, seed.size());
  Update(ctx, seed.data(), seed.size());
  root_ = Finish(ctx);
}

BlockHasher::~BlockHasher() = default;

BlockHash BlockHasher::Hash(const BlockHash& parent, std::span<const int32_t> token_ids,
                            std::string_view scope) {
  EVP_MD_CTX* ctx = AsContext(ctx_.get());
  DSI_CHECK(EVP_DigestInit_ex(ctx, EVP_sha256(), nullptr) == 1);
  Update(ctx, parent.bytes.data(), parent.bytes.size());
  PutU64(ctx, scope.size());
  Update(ctx, scope.data(), scope.size());
  // Little-endian regardless of host, so the encoding is a fixed function of the values.
  uint8_t buf[4 * 64];
  size_t used = 0;
  for (const int32_t token : token_ids) {
    const auto u = static_cast<uint32_t>(token);
    for (int i = 0; i < 4; ++i) buf[used++] = static_cast<uint8_t>(u >> (8 * i));
    if (used == sizeof(buf)) {
      Update(ctx, buf, used);
      used = 0;
    }
  }
  Update(ctx, buf, used);
  return Finish(ctx);
}

}  // namespace dsinfer
