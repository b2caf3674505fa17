#include "model/load_model.h"

#include <filesystem>
#include <limits>
#include <memory>
#include <utility>

#include "formats/gguf_file.h"
#include "formats/hf_config.h"
#include "formats/safetensors_model.h"
#include "model/hf_weights.h"
#include "platform/memory_info.h"

namespace dsinfer {

namespace {

// The copies may take 3/4 of the memory the system has available at load (which counts the
// page cache, the mapped file's included), all of it where that is unknown.
ModelWeights::BindOptions BindOptionsFor(const ModelLoadOptions& options) {
  const int64_t available = AvailableMemoryBytes();
  return {.pack_for_decode = options.pack_for_decode,
          .row_copy_budget_bytes = available > 0 ? static_cast<size_t>(available) / 4 * 3
                                                 : std::numeric_limits<size_t>::max()};
}

StatusOr<Model> LoadGguf(const std::string& path, const ModelLoadOptions& options,
                         ThreadPool* pool) {
  DSI_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Open(path));
  auto shared = std::make_shared<const GgufFile>(std::move(file));
  StatusOr<ModelConfig> config = ModelConfig::FromGguf(*shared);
  if (!config.ok()) return config.status().WithContext(path);
  StatusOr<Model> model =
      Model::Create(*config, WeightStore::FromGguf(shared), BindOptionsFor(options), pool);
  if (!model.ok()) return model.status().WithContext(path);
  return model;
}

// config.json + safetensors, each matrix converted to `options.hf_type` (a mixture's per-tensor
// types, llama.cpp's fallbacks where a row cannot hold one) while it is read.
StatusOr<Model> LoadHf(const std::string& dir, const ModelLoadOptions& options, ThreadPool* pool) {
  DSI_ASSIGN_OR_RETURN(const HfConfig hf, LoadHfConfig(dir));
  StatusOr<ModelConfig> config = ModelConfig::FromHfConfig(hf);
  if (!config.ok()) return config.status().WithContext(dir);
  DSI_ASSIGN_OR_RETURN(const SafetensorsModel files, SafetensorsModel::Open(dir));
  StatusOr<WeightStore> store = LoadHfWeights(
      files, *config, {.dtype = options.hf_type.type, .mixture = options.hf_type.mixture}, pool);
  if (!store.ok()) return store.status().WithContext(dir);
  StatusOr<Model> model = Model::Create(*config, std::move(*store), BindOptionsFor(options), pool);
  if (!model.ok()) return model.status().WithContext(dir);
  return model;
}

}  // namespace

StatusOr<Model> LoadModel(const std::string& path, const ModelLoadOptions& options,
                          ThreadPool* pool) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return LoadHf(path, options, pool);
  }
  return LoadGguf(path, options, pool);
}

}  // namespace dsinfer
