// ChatTemplateInputsFromRequest: a chat request's messages, tools and template variables,
// checked field by field and turned into the inputs of the model's chat template, as vLLM
// hands them to transformers' apply_chat_template. Internal to server/.
//
// Messages: role "system", "developer" (OpenAI's newer name for system; the templates know
// only "system", so it is passed as that), "user", "assistant" or "tool". content is a
// string, or an array of {"type": "text", "text": ...} parts (joined with "\n", as vLLM does),
// or null/absent for an assistant turn with tool_calls. name, tool_calls (an array of
// objects) and tool_call_id pass through unchanged; other message fields (an earlier turn's
// reasoning_content) are dropped.
//
// Thread safety: a pure function.
#ifndef DSINFER_SERVER_CHAT_MESSAGES_H_
#define DSINFER_SERVER_CHAT_MESSAGES_H_

#include "server/openai_api.h"
#include "server/request_fields.h"
#include "tokenizer/chat_template.h"

namespace dsinfer::server {

ApiOr<tokenizer::ChatTemplateInputs> ChatTemplateInputsFromRequest(const RequestFields& fields,
                                                                   const ServedModel& model);

}  // namespace dsinfer::server

#endif  // DSINFER_SERVER_CHAT_MESSAGES_H_
