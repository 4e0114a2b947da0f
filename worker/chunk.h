// One classification of stream chunks for every API (OpenAI chat/completions, Ollama
// chat/generate, Anthropic messages). An ApiAdapter turns each SSE event or NDJSON line into a
// ChunkInfo; the engine and the Recorder use only ChunkInfo, the same way for every API:
//
//   ttft      first chunk with is_token_bearing(kind) (content, reasoning or tool_call: every kind
//             that carries generated text); role_only, empty, usage_only and other never count.
//   ttfo      first chunk with is_output_content(kind): content or tool_call (the first answer
//             token after any reasoning; a tool call is the answer of a tool-calling request).
//   itl       every gap between token-bearing chunks; a chunk with tokens == k > 1 adds its gap
//             and k - 1 zero gaps (the k tokens arrived together).
//   tokens    StreamState::output_tokens(): the server's usage when it reported any, else the
//             scenario tokenizer's count of the streamed text (set by the request at its end,
//             prompts.tokenizer only), else the sum of `tokens` over token-bearing chunks;
//             TokenSource says which.
//   end       `final` set: the stream's terminator ([DONE], Ollama's done:true object,
//             Anthropic's message_stop). A body that ends before any chunk had `final` set is a
//             truncated stream (error kind `truncated`): the engine decides that from
//             StreamState::final_seen being false when the response body ends.
//   errors    kind == error: an error payload inside the stream (error kind `server_error`,
//             error_message says what the server said). A chunk whose JSON is malformed is not a
//             ChunkInfo at all: ApiAdapter::classify returns ClassifyStatus::malformed (error kind
//             `protocol`).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <string_view>

namespace llmload::worker {

enum class ChunkKind : uint8_t {
  role_only,   // announces the assistant's role, no text (vLLM's first chunk, Anthropic
               // message_start): not a token, does not start ttft
  empty,       // a choice with no text ("content":"", an empty delta with finish_reason)
  content,     // answer text (delta.content, choices[].text, Ollama response / message.content,
               // Anthropic text_delta)
  reasoning,   // reasoning text before the answer (reasoning_content / reasoning, Ollama
               // thinking, Anthropic thinking_delta)
  tool_call,   // tool-call deltas (delta.tool_calls, Ollama message.tool_calls, Anthropic
               // input_json_delta and tool_use blocks)
  usage_only,  // carries usage but no text (OpenAI include_usage chunk with empty choices,
               // llama.cpp's final chunk with an empty delta, Anthropic message_delta)
  error,       // an error payload in the stream; error_message holds the server's message
  done,        // the stream's terminator carrying no text ([DONE], Ollama done:true with empty
               // text, Anthropic message_stop)
  other,       // anything else (Anthropic ping, content_block_start/stop, unknown events)
};

// Text-bearing kinds: these start ttft, make itl gaps and are counted as tokens.
constexpr bool is_token_bearing(ChunkKind k) {
  return k == ChunkKind::content || k == ChunkKind::reasoning || k == ChunkKind::tool_call;
}

// The kinds that start ttfo (the first answer token after any reasoning): content text and
// tool-call deltas, which are the answer of a tool-calling request. Reasoning never does. Every
// output kind is also token-bearing, so ttft <= ttfo always holds.
constexpr bool is_output_content(ChunkKind k) {
  return k == ChunkKind::content || k == ChunkKind::tool_call;
}

// "role_only", "empty", ... (stable names, used in tests and logs).
const char* to_string(ChunkKind k);

// Timings a server reports about its own work. Each field is set only when the chunk carries
// it. Ollama reports them on its final done:true object, llama.cpp in a `timings` object on
// its final chunk (and in a non-streamed body).
struct ServerTimings {
  // Ollama (nanoseconds and token counts).
  std::optional<int64_t> total_duration_ns;
  std::optional<int64_t> load_duration_ns;
  std::optional<int64_t> prompt_eval_duration_ns;
  std::optional<int64_t> eval_duration_ns;
  std::optional<int64_t> prompt_eval_count;
  std::optional<int64_t> eval_count;
  // llama.cpp `timings` (milliseconds and token counts).
  std::optional<double> prompt_ms;
  std::optional<double> predicted_ms;
  std::optional<int64_t> prompt_n;
  std::optional<int64_t> predicted_n;
  std::optional<int64_t> cache_n;  // prompt tokens served from llama.cpp's cache
  // OpenAI-style usage.prompt_tokens_details.cached_tokens (vLLM with prefix caching).
  std::optional<int64_t> cached_tokens;

  // Sets every field `other` carries (a later chunk's figures replace an earlier one's).
  void update(const ServerTimings& other);
  bool empty() const { return *this == ServerTimings{}; }
  bool operator==(const ServerTimings&) const = default;
};

// What one SSE event or NDJSON line carries. Plain data; the string_views point into the data
// passed to classify() (the parser's event buffer: valid until the next feed) or into the
// StreamState (until the next classify on it).
struct ChunkInfo {
  ChunkKind kind = ChunkKind::other;
  // Tokens this chunk carries: for token-bearing kinds, k when known from per-chunk usage (the
  // rise of completion_tokens since the tokens already attributed, vLLM continuous_usage_stats)
  // and never less than 1; 0 for every other kind.
  int32_t tokens = 0;
  // Usage reported by this chunk. A field the chunk does not carry is -1. Both counts are
  // cumulative in every API we know, so the stream's usage is the last reported value of each
  // (StreamState keeps it).
  bool has_usage = false;
  int64_t prompt_tokens = -1;
  int64_t completion_tokens = -1;
  // The stream's terminator or last object. Independent of kind: Ollama's done:true object is
  // kind done when its text is empty, content (with final set) when it still carries text.
  bool final = false;
  // The stream's id field when this chunk has one (OpenAI `id`, Anthropic message_start's
  // message.id); empty otherwise. Used as request_id when the server sent no x-request-id.
  std::string_view id;
  // For kinds content and reasoning, and tool_call when its text is one string (an OpenAI
  // delta's function name or arguments piece, Anthropic's input_json_delta): the text as
  // the chunk's JSON string holds it (quotes and escapes as sent: decode with json_unescape), so
  // history: live can keep the reply, and a tokenizer count the output, at no cost to streams
  // that do neither; empty for every other kind (a tool_call whose text is not one string).
  std::string_view text_json;
  // For kind error: the server's message (unescaped). Empty otherwise.
  std::string_view error_message;
  bool has_timings = false;
  ServerTimings timings;
  // Embeddings APIs: the inputs this response embedded (its `data` entries); 0 otherwise.
  int32_t inputs = 0;
};

// Where output_tokens came from (recorded as tokens_source in requests.csv).
enum class TokenSource : uint8_t {
  usage,      // the server's usage (completion_tokens, eval_count, output_tokens)
  counted,    // token-bearing chunks counted (ChunkInfo::tokens summed)
  tokenizer,  // the streamed text encoded by the scenario's tokenizer at the request's end
};
const char* to_string(TokenSource s);

struct TokenCount {
  int64_t value = 0;
  TokenSource source = TokenSource::counted;
};

// Per-stream state that classify() reads and updates. One per in-flight request, owned by the
// engine; call reset() before reusing it for the next request (capacity is kept, so no heap
// allocation once warmed up).
struct StreamState {
  int64_t counted_tokens = 0;            // sum of ChunkInfo::tokens over token-bearing chunks
  int64_t token_chunks = 0;              // number of token-bearing chunks
  int64_t usage_prompt_tokens = -1;      // last prompt_tokens the server reported, -1 if none
  int64_t usage_completion_tokens = -1;  // last completion_tokens the server reported, -1 if none
  bool final_seen = false;               // a chunk with final set was classified
  std::string scratch;                   // holds unescaped error messages (rare path)
  ServerTimings server;                  // every timing the server reported so far
  int64_t inputs = 0;                    // inputs embedded (embeddings APIs), else 0
  // Output tokens the scenario's tokenizer counted in the streamed text, -1 if not counted (no
  // tokenizer, usage came, or the text passed its cap). Set by the request when it ends.
  int64_t tokenized_tokens = -1;

  void reset() {
    counted_tokens = 0;
    token_chunks = 0;
    usage_prompt_tokens = -1;
    usage_completion_tokens = -1;
    final_seen = false;
    scratch.clear();
    server = ServerTimings{};
    inputs = 0;
    tokenized_tokens = -1;
  }

  // output_tokens per DESIGN.md: server usage when present, else the tokenizer's count of the
  // streamed text when made, else counted token-bearing chunks.
  TokenCount output_tokens() const {
    if (usage_completion_tokens >= 0) return {usage_completion_tokens, TokenSource::usage};
    if (tokenized_tokens >= 0) return {tokenized_tokens, TokenSource::tokenizer};
    return {counted_tokens, TokenSource::counted};
  }
  // input_tokens: the server's prompt_tokens, -1 when it never said.
  int64_t input_tokens() const { return usage_prompt_tokens; }
};

}  // namespace llmload::worker
