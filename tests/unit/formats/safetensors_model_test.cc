// SafetensorsModel: checkpoint directories, shard indexes and their failures.
#include "safetensors_test_util.h"

namespace dsinfer {
namespace {

using namespace safetensors_test;  // NOLINT(google-build-using-namespace): the test's vocabulary
using ::testing::HasSubstr;

class SafetensorsModelTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = ::testing::TempDir() + "/dsinfer_st_" + info->name();
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
  }
  void TearDown() override { std::filesystem::remove_all(dir_); }

  std::string Path(const std::string& name) const { return dir_ + "/" + name; }
  void Write(const std::string& name, const Bytes& bytes) const { WriteFile(Path(name), bytes); }
  void WriteText(const std::string& name, const std::string& text) const {
    std::ofstream(Path(name)) << text;
  }
  // Two shards and the index that names them.
  void WriteShardedCheckpoint() {
    Write("model-00001-of-00002.safetensors",
          BuildFile({{"model.embed_tokens.weight", "BF16", {4, 2}, a_},
                     {"model.layers.0.mlp.gate.weight", "F32", {2, 2}, b_}}));
    Write("model-00002-of-00002.safetensors",
          BuildFile({{"lm_head.weight", "F8_E4M3", {4, 2}, c_}}));
    WriteText("model.safetensors.index.json", R"({
      "metadata": {"total_size": 40},
      "weight_map": {
        "lm_head.weight": "model-00002-of-00002.safetensors",
        "model.embed_tokens.weight": "model-00001-of-00002.safetensors",
        "model.layers.0.mlp.gate.weight": "model-00001-of-00002.safetensors"
      }})");
  }
  std::string OpenError() const {
    auto model = SafetensorsModel::Open(dir_);
    EXPECT_FALSE(model.ok());
    return model.ok() ? "" : std::string(model.status().message());
  }

  std::string dir_;
  Bytes a_ = RandomBytes(16, 21), b_ = RandomBytes(16, 22), c_ = RandomBytes(8, 23);
};

TEST_F(SafetensorsModelTest, ShardedWithIndex) {
  WriteShardedCheckpoint();
  auto model = SafetensorsModel::Open(dir_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->path(), dir_);
  ASSERT_EQ(model->shards().size(), 2u);
  EXPECT_EQ(model->shards()[0].name(), Path("model-00001-of-00002.safetensors"));
  EXPECT_EQ(model->shards()[1].name(), Path("model-00002-of-00002.safetensors"));
  std::vector<std::string> names;
  for (const auto& entry : model->tensors()) names.push_back(entry.tensor->name);
  EXPECT_THAT(names, ::testing::ElementsAre("lm_head.weight", "model.embed_tokens.weight",
                                            "model.layers.0.mlp.gate.weight"));
  EXPECT_EQ(model->tensors()[0].shard, 1u);
  EXPECT_EQ(model->ShardOf("model.embed_tokens.weight"), 0);
  EXPECT_EQ(model->ShardOf("lm_head.weight"), 1);
  EXPECT_EQ(model->ShardOf("nope"), -1);
  EXPECT_EQ(model->Find("nope"), nullptr);
  ASSERT_NE(model->Find("lm_head.weight"), nullptr);
  EXPECT_EQ(model->Find("lm_head.weight")->dtype, DType::kF8E4M3);
  EXPECT_TRUE(SameBytes(model->Find("lm_head.weight")->view.bytes, c_));
  EXPECT_TRUE(SameBytes(model->Find("model.embed_tokens.weight")->view.bytes, a_));
  EXPECT_TRUE(SameBytes(model->Find("model.layers.0.mlp.gate.weight")->view.bytes, b_));
  EXPECT_EQ(model->total_data_bytes(), 40);
  EXPECT_EQ(model->parameter_count(), 8 + 4 + 8);

  // Pointers into the shards survive moving the model.
  const SafetensorsTensor* before = model->Find("lm_head.weight");
  SafetensorsModel moved = std::move(model).value();
  EXPECT_EQ(moved.Find("lm_head.weight"), before);
  static_assert(!std::is_copy_constructible_v<SafetensorsModel>);
}

TEST_F(SafetensorsModelTest, IndexNamesMissingShard) {
  WriteShardedCheckpoint();
  std::filesystem::remove(Path("model-00002-of-00002.safetensors"));
  const std::string message = OpenError();
  EXPECT_THAT(message, HasSubstr("model.safetensors.index.json"));
  EXPECT_THAT(message, HasSubstr("model-00002-of-00002.safetensors"));
}

TEST_F(SafetensorsModelTest, IndexListsTensorTheShardLacks) {
  WriteShardedCheckpoint();
  Write("model-00002-of-00002.safetensors", BuildFile({{"other.weight", "F8_E4M3", {8}, c_}}));
  const std::string message = OpenError();
  EXPECT_THAT(message, HasSubstr("model.safetensors.index.json"));
  EXPECT_THAT(message, HasSubstr("'lm_head.weight'"));
  EXPECT_THAT(message, HasSubstr("does not hold it"));
}

TEST_F(SafetensorsModelTest, IndexPutsTensorInTheWrongShard) {
  WriteShardedCheckpoint();
  Write("model-00001-of-00002.safetensors",
        BuildFile({{"model.embed_tokens.weight", "BF16", {4, 2}, a_}}));
  Write("model-00002-of-00002.safetensors",
        BuildFile({{"lm_head.weight", "F8_E4M3", {4, 2}, c_},
                   {"model.layers.0.mlp.gate.weight", "F32", {2, 2}, b_}}));
  const std::string message = OpenError();
  EXPECT_THAT(message, HasSubstr("'model.layers.0.mlp.gate.weight'"));
  EXPECT_THAT(message, HasSubstr("(it is in " + Path("model-00002-of-00002.safetensors") + ")"));
}

TEST_F(SafetensorsModelTest, ShardHoldsTensorTheIndexDoesNotList) {
  WriteShardedCheckpoint();
  Write("model-00002-of-00002.safetensors",
        BuildFile({{"lm_head.weight", "F8_E4M3", {4, 2}, c_},
                   {"lm_head.weight_scale_inv", "F32", {1}, RandomBytes(4, 24)}}));
  const std::string message = OpenError();
  EXPECT_THAT(message, HasSubstr("'lm_head.weight_scale_inv', which weight_map does not list"));
}

TEST_F(SafetensorsModelTest, BadIndexFiles) {
  WriteShardedCheckpoint();
  const std::vector<std::pair<std::string, std::string>> cases = {
      {"{not json", "not valid JSON"},
      {"[]", "not a JSON object"},
      {R"({"metadata": {}})", "no \"weight_map\""},
      {R"({"weight_map": []})", "\"weight_map\" is a JSON array"},
      {R"({"weight_map": {}})", "weight_map is empty"},
      {R"({"weight_map": {"a": 3}})", "weight_map entry 'a' is a JSON number"},
      {R"({"weight_map": {"a": "../model-00001-of-00002.safetensors"}})", "not a plain file name"},
      {R"({"weight_map": {"a": "/etc/passwd"}})", "not a plain file name"},
      {R"({"weight_map": {"a": ".."}})", "not a plain file name"},
      {R"({"weight_map": {"lm_head.weight": "model-00002-of-00002.safetensors",
                          "lm_head.weight": "model-00001-of-00002.safetensors"}})",
       "has the key 'lm_head.weight' twice in 'weight_map'"},
      {R"({"weight_map": {"a": "x"}, "weight_map": {"a": "y"}})", "has the key 'weight_map' twice"},
      {std::string(100000, '[') + std::string(100000, ']'), "nests deeper than 16 levels"},
  };
  for (const auto& [text, expect] : cases) {
    SCOPED_TRACE(text);
    WriteText("model.safetensors.index.json", text);
    const std::string message = OpenError();
    EXPECT_THAT(message, HasSubstr("model.safetensors.index.json"));
    EXPECT_THAT(message, HasSubstr(expect));
  }
}

TEST_F(SafetensorsModelTest, BrokenShardNamesTheShard) {
  WriteShardedCheckpoint();
  Write("model-00002-of-00002.safetensors", RawFile("{oops"));
  const std::string message = OpenError();
  EXPECT_THAT(message, HasSubstr(Path("model-00002-of-00002.safetensors") + ": header is not"));
}

TEST_F(SafetensorsModelTest, SingleModelFileInDirectoryWins) {
  Write("model.safetensors", BuildFile({{"w", "F32", {2}, RandomBytes(8, 25)}}));
  Write("other.safetensors", BuildFile({{"w", "F32", {2}, RandomBytes(8, 26)}}));
  auto model = SafetensorsModel::Open(dir_ + "/");
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_EQ(model->shards().size(), 1u);
  EXPECT_EQ(model->shards()[0].name(), Path("model.safetensors"));
}

TEST_F(SafetensorsModelTest, GlobsShardsInNameOrder) {
  Write("b.safetensors", BuildFile({{"b", "I32", {2}, RandomBytes(8, 27)}}));
  Write("a.safetensors", BuildFile({{"a", "I64", {1}, RandomBytes(8, 28)}}));
  WriteText("notes.txt", "not a shard");
  std::filesystem::create_directories(Path("sub.safetensors"));  // a directory, not a shard
  auto model = SafetensorsModel::Open(dir_);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  ASSERT_EQ(model->shards().size(), 2u);
  EXPECT_EQ(model->shards()[0].name(), Path("a.safetensors"));
  EXPECT_EQ(model->shards()[1].name(), Path("b.safetensors"));
  EXPECT_EQ(model->ShardOf("b"), 1);
  EXPECT_EQ(model->parameter_count(), 3);
}

TEST_F(SafetensorsModelTest, DuplicateTensorAcrossShards) {
  Write("a.safetensors", BuildFile({{"w", "F32", {2}, RandomBytes(8, 29)}}));
  Write("b.safetensors", BuildFile({{"w", "F32", {2}, RandomBytes(8, 30)}}));
  const std::string message = OpenError();
  EXPECT_THAT(message, HasSubstr("tensor 'w' is in both " + Path("a.safetensors") + " and " +
                                 Path("b.safetensors")));
}

TEST_F(SafetensorsModelTest, SingleFilePath) {
  Write("one.safetensors", BuildFile({{"w", "BOOL", {3}, RandomBytes(3, 31)}}));
  auto model = SafetensorsModel::Open(Path("one.safetensors"));
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  EXPECT_EQ(model->shards().size(), 1u);
  EXPECT_EQ(model->total_data_bytes(), 3);
}

TEST_F(SafetensorsModelTest, EmptyDirectoryAndMissingPathAreNotFound) {
  auto empty = SafetensorsModel::Open(dir_);
  ASSERT_FALSE(empty.ok());
  EXPECT_EQ(empty.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(empty.status().message()), HasSubstr(dir_));

  auto missing = SafetensorsModel::Open(Path("nowhere"));
  ASSERT_FALSE(missing.ok());
  EXPECT_EQ(missing.status().code(), StatusCode::kNotFound);
  EXPECT_THAT(std::string(missing.status().message()), HasSubstr(Path("nowhere")));
}

}  // namespace
}  // namespace dsinfer
