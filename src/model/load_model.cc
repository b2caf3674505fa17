#include "model/load_model.h"

#include <filesystem>
#include <memory>
#include <utility>

#include <fmt/format.h>

#include "formats/gguf_file.h"

namespace dsinfer {

namespace {

StatusOr<Model> LoadGguf(const std::string& path, const ModelLoadOptions& options,
                         ThreadPool* pool) {
  DSI_ASSIGN_OR_RETURN(GgufFile file, GgufFile::Open(path));
  auto shared = std::make_shared<const GgufFile>(std::move(file));
  StatusOr<ModelConfig> config = ModelConfig::FromGguf(*shared);
  if (!config.ok()) return config.status().WithContext(path);
  StatusOr<Model> model = Model::Create(*config, WeightStore::FromGguf(shared),
                                        {.pack_for_decode = options.pack_for_decode}, pool);
  if (!model.ok()) return model.status().WithContext(path);
  return model;
}

}  // namespace

StatusOr<Model> LoadModel(const std::string& path, const ModelLoadOptions& options,
                          ThreadPool* pool) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec)) {
    return UnimplementedError(
        fmt::format("{}: loading HF checkpoint directories is not wired yet", path));
  }
  return LoadGguf(path, options, pool);
}

}  // namespace dsinfer
