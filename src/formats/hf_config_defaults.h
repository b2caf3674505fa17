// Internal to formats/: the defaults of the HF config class for each model_type, i.e. what
// transformers (or DeepSeek's remote code) uses for a key that config.json leaves out. Each
// table cites the class it was copied from.
#ifndef DSINFER_FORMATS_HF_CONFIG_DEFAULTS_H_
#define DSINFER_FORMATS_HF_CONFIG_DEFAULTS_H_

#include "formats/hf_config.h"

namespace dsinfer {

// An HfConfig holding the class defaults of `type`. num_key_value_heads 0 and head_dim 0
// stand for None: ParseHfConfig derives them after reading the file.
HfConfig HfConfigDefaults(HfModelType type);

}  // namespace dsinfer

#endif  // DSINFER_FORMATS_HF_CONFIG_DEFAULTS_H_
