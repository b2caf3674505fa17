#include "kv_cache/block_hash.h"

#include <gtest/gtest.h>
#include <openssl/sha.h>

#include <cstdint>
#include <string>
#include <vector>

namespace dsinfer {
namespace {

// The encoding spelled out in block_hash.h, built independently and hashed with one-shot SHA-256.
BlockHash ReferenceHash(const BlockHash& parent, const std::vector<int32_t>& tokens,
                        const std::string& scope) {
  std::vector<uint8_t> bytes(parent.bytes.begin(), parent.bytes.end());
  for (int i = 0; i < 8; ++i)
    bytes.push_back(static_cast<uint8_t>(uint64_t{scope.size()} >> (8 * i)));
  bytes.insert(bytes.end(), scope.begin(), scope.end());
  for (const int32_t t : tokens) {
    for (int i = 0; i < 4; ++i)
      bytes.push_back(static_cast<uint8_t>(static_cast<uint32_t>(t) >> (8 * i)));
  }
  BlockHash out;
  SHA256(bytes.data(), bytes.size(), out.bytes.data());
  return out;
}

TEST(BlockHashTest, MatchesTheDocumentedEncoding) {
  BlockHasher hasher;
  // Enough tokens to cross the hasher's internal 64-token buffer.
  std::vector<int32_t> tokens(100);
  for (int i = 0; i < 100; ++i) tokens[static_cast<size_t>(i)] = i * 7919 - 300000;
  EXPECT_EQ(hasher.Hash(hasher.root(), tokens, "tenant-a"),
            ReferenceHash(hasher.root(), tokens, "tenant-a"));
}

TEST(BlockHashTest, DependsOnParentTokensScopeAndSeed) {
  BlockHasher hasher;
  const std::vector<int32_t> tokens = {1, 2, 3, 4};
  const BlockHash base = hasher.Hash(hasher.root(), tokens, "");
  EXPECT_EQ(hasher.Hash(hasher.root(), tokens, ""), base);  // deterministic
  EXPECT_NE(hasher.Hash(base, tokens, ""), base);
  EXPECT_NE(hasher.Hash(hasher.root(), std::vector<int32_t>{1, 2, 3, 5}, ""), base);
  EXPECT_NE(hasher.Hash(hasher.root(), tokens, "tenant-a"), base);
  BlockHasher seeded("per-process-secret");
  EXPECT_NE(seeded.root(), hasher.root());
  EXPECT_NE(seeded.Hash(seeded.root(), tokens, ""), base);
}

TEST(BlockHashTest, ScopeIsLengthPrefixedSoItCannotBleedIntoTokens) {
  BlockHasher hasher;
  // Scope "\x01\0\0\0" + tokens {2} must differ from scope "" + tokens {1, 2}.
  const std::string scope("\x01\0\0\0", 4);
  EXPECT_NE(hasher.Hash(hasher.root(), std::vector<int32_t>{2}, scope),
            hasher.Hash(hasher.root(), std::vector<int32_t>{1, 2}, ""));
}

}  // namespace
}  // namespace dsinfer
