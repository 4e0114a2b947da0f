// The scenario: what a load test sends, to whom, how hard and for how long, and what counts as
// good. Users write it as YAML (docs/scenarios.md documents every field); load_scenario() turns
// the file into this model after checking every field, apply_overrides() puts the command line
// on top, resolve_secrets() fills ${VAR} header values from the environment, and the engine and
// coordinator read nothing else.
//
// Units: every duration is in nanoseconds (int64_t, field names end in _ns); token counts are
// tokens; rates are requests per second. A value of 0 in a limit means "no limit".
#pragma once

#include <cstdint>
#include <map>
#include <nlohmann/json.hpp>
#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/api.h"
#include "common/distribution.h"
#include "common/expected.h"
#include "common/group_stats.h"
#include "common/rating.h"
#include "common/slo_expr.h"
#include "common/trace.h"

namespace llmload {

// ---------------------------------------------------------------------------------------------
// Targets

// The API of a target (Api, api_name, parse_api, api_is_chat): common/api.h.

// One HTTP header sent with every request to a target. `value_template` is what the scenario
// (or --header) says, possibly with ${VAR} references; `value` is what goes on the wire once
// resolve_secrets() ran. A header whose template references a variable is `secret`: its value
// never appears in logs, errors or results (redacted_json shows "***").
struct Header {
  std::string name;
  std::string value_template;
  std::string value;    // resolved; equals value_template when it has no ${VAR}
  bool secret = false;  // true when the template references ${VAR} (or the file says secret)
};

struct Timeouts {
  int64_t connect_ns = 10'000'000'000;  // TCP connect (+ TLS handshake): connect_timeout
  int64_t ttft_ns = 120'000'000'000;    // request start → first token: ttft_timeout
  int64_t idle_ns = 60'000'000'000;     // gap between two chunks: idle_timeout
  int64_t total_ns = 600'000'000'000;   // request start → end of response: total_timeout
};

struct Tls {
  std::string ca_file;    // PEM bundle to verify the server with (absolute path); empty: system
  std::string cert_file;  // client certificate (PEM, absolute path); empty: none
  std::string key_file;   // client private key (PEM, absolute path); set together with cert_file
  bool insecure = false;  // skip certificate verification (recorded, warned about)
};

// OpenAI-style `stream_options`.
struct StreamOptions {
  bool include_usage = true;      // ask for the final usage chunk
  bool continuous_usage = false;  // ask for usage in every chunk (vLLM's continuous_usage_stats)
};

struct ModelChoice {
  std::string name;
  double weight = 1;  // > 0; relative to the other models of the same target
};

struct Target {
  std::string name;  // unique within the scenario; defaults to the url's host[:port], or "mock"
  std::string url;   // base URL scheme://host[:port][/prefix], or "mock" (the built-in mock)
  Api api = Api::kOpenAiChat;
  std::vector<ModelChoice> models;  // at least one; a single `model:` gives one entry
  double weight = 1;                // > 0; requests are spread over targets by weight
  std::vector<Header> headers;
  Timeouts timeouts;
  int64_t wait_ready_ns = 0;  // before pre-flight, wait up to this for the target to answer (0: no)
  Tls tls;
  StreamOptions stream_options;
  // The target's Prometheus page (docs/scenarios.md "target.metrics_url"), scraped by the run's
  // first worker every interval: http://host[:port]/path, or "mock" (the built-in mock's
  // /metrics, with url: mock); "" for none. At most one target has one.
  std::string metrics_url;
  // The series to keep (common/target_series.h: metric names, series names, `prefix*`);
  // empty: every series of the llama.cpp, vLLM, TGI and DCGM presets the page has.
  std::vector<std::string> metrics;

  bool is_mock() const { return url == "mock"; }
};

// ---------------------------------------------------------------------------------------------
// Load shape

enum class LoadMode {
  kConcurrency,  // a fixed number of requests in flight (closed loop)
  kRate,         // requests started at `rate` per second (open loop, coordinated-omission safe)
};
enum class Arrival {
  kConstant,  // evenly spaced starts
  kPoisson,   // exponential gaps with mean 1/rate
};

// One stage of a ramp: over `duration_ns` the load moves linearly from the previous level (the
// previous stage's target, or load.concurrency / load.rate before the first stage, 0 if unset)
// to this stage's target. Only the field of the load's mode is set.
struct Stage {
  int64_t duration_ns = 0;  // > 0
  int64_t concurrency = 0;  // kConcurrency: target level at the end of the stage
  double rate = 0;          // kRate: target rate at the end of the stage
};

struct Load {
  LoadMode mode = LoadMode::kConcurrency;
  int64_t concurrency = 1;               // kConcurrency without stages: in-flight requests (>= 1)
  double rate = 0;                       // kRate without stages: requests per second (> 0)
  Arrival arrival = Arrival::kConstant;  // kRate only
  std::vector<Stage> stages;  // empty: a flat load. After the last stage the level holds.
  // Limits (DESIGN.md "How a run starts and ends"). At least one of the two is set (> 0) in a
  // valid scenario; the first reached ends the run. With stages and no duration, the parser
  // sets duration_ns to the sum of the stages.
  int64_t duration_ns = 0;            // measured window, starting after warmup; 0 = none
  int64_t requests = 0;               // measured requests; 0 = none
  int64_t warmup_ns = 0;              // load run first and discarded (default 0)
  int64_t grace_ns = 30'000'000'000;  // in-flight requests finish within this after the end
  int64_t max_in_flight = 0;          // kRate: cap on requests in flight; 0 = no cap
  Distribution think_time;            // ns between a response and the next request on a slot
                                      // (kConcurrency); fixed 0 by default
  // Trace replay (common/trace.h): requests at the trace's times. Set: the mode is kRate (open
  // loop: queue, lateness, dropped as in rate mode), `rate`, stages and `requests` are unused,
  // the run ends at the trace's last row (or with `duration`), and prompts are synthesized per
  // row (the `prompts` section is ignored).
  std::optional<TraceSpec> trace;
};

// ---------------------------------------------------------------------------------------------
// Prompts

struct Message {
  std::string role;  // "system", "user" or "assistant"
  std::string content;
};

// One turn of a recorded conversation: what the user says and the reply the dataset recorded.
struct Turn {
  std::string user;
  std::string recorded_reply;  // may be empty (the dataset recorded none)
};

enum class PromptSourceKind {
  kInline,         // prompts.items in the scenario file
  kJsonl,          // one prompt per line: a string, {"prompt"|"text": ...}, {"messages": [...]}
                   // or a bare messages array; optional "max_tokens" per line
  kShareGpt,       // ShareGPT JSON: [{"conversations": [{"from": "human", "value": ...}, ...]}]
  kSynthetic,      // generated words, lengths from a distribution
  kConversations,  // multi-turn: JSONL, one conversation per line (messages array)
};
std::string_view prompt_source_name(PromptSourceKind kind);

enum class Sampling {
  kRandom,      // with replacement: each request draws any prompt (default)
  kShuffle,     // without replacement: a shuffled pass over the dataset, reshuffled when used up
  kSequential,  // in file order, wrapping around
};

enum class History {
  kRecorded,  // turn k's history holds the dataset's recorded replies (reproducible lengths)
  kLive,      // turn k's history holds the replies the target really gave
};

// One inline item as written in the scenario (text or messages, optional max_tokens).
struct InlinePrompt {
  std::string text;
  std::vector<Message> messages;  // non-empty: a chat prompt; `text` is then empty
  std::optional<int64_t> max_tokens;
  std::vector<Turn> turns;  // kConversations given inline
  Labels labels;            // the row's own labels (`labels:`), e.g. task, agent
};

struct PromptSource {
  PromptSourceKind kind = PromptSourceKind::kSynthetic;
  std::vector<InlinePrompt> items;  // kInline (and kConversations given inline)
  std::string file;                 // kJsonl, kShareGpt, kConversations: absolute path
  std::string system;               // optional system message put before every prompt
  Sampling sampling = Sampling::kRandom;
  int64_t limit = 0;  // use only the first `limit` entries of a file; 0 = all
  // kShareGpt: use the recorded reply's length (≈ words) as the prompt's max_tokens.
  bool output_from_reply = false;
  // kSynthetic
  Distribution input_tokens = Distribution::fixed(128);  // words ≈ tokens per prompt
  int64_t shared_prefix_tokens = 0;  // the same N-word prefix on every prompt (prefix caches)
  // Any source: a distinct short prefix on every prompt sampled, so that no two requests of a
  // run share a cacheable prefix.
  bool unique_prefix = false;
  // kConversations
  History history = History::kRecorded;
  // kLive: the replies one conversation keeps (bytes, all turns together); past it the oldest
  // turns leave the history (common/conversation.h LiveHistory).
  int64_t history_max_bytes = 256 * 1024;
  // kConversations: every turn of a conversation goes on the connection its first turn used.
  bool sticky = false;
  // prompts.tokenizer / --tokenizer: a tokenizer.json or .tiktoken file (absolute path; empty:
  // none). When set, lengths are true tokens of that tokenizer: synthetic prompts (and the
  // shared prefix) and trace rows have exactly their asked tokens (written on the worker from
  // one-token words, common/token_words.h), and input_tokens_estimate counts tokens, not words
  // (common/tokenizer.h). Workers read the file from this same path.
  std::string tokenizer;
};

// A prompt ready to send: what the coordinator ships to the workers (it never ships the
// dataset). Exactly one of `text`, `messages`, `turns` is the payload:
//  - `turns` non-empty: a multi-turn conversation (see conversation_messages()).
//  - else `messages` non-empty: a chat prompt.
//  - else `text`: a plain prompt.
// prompt_text() / prompt_messages() convert between the forms for the target's API.
struct ResolvedPrompt {
  int64_t index = 0;         // position in the run's prompt list: requests.csv's `prompt` column
  int64_t source_index = 0;  // entry of the dataset it came from (line/item order, 0-based)
  std::string text;
  std::vector<Message> messages;
  std::vector<Turn> turns;
  std::string system;                 // from prompts.system; sent first where the API allows
  int64_t input_tokens_estimate = 0;  // ≈ words of everything sent (first turn for turns)
  std::optional<int64_t> max_tokens;  // the request's max_tokens: per-prompt value, else a
                                      // draw from output.max_tokens, else absent
  Labels labels;  // the dataset row's labels, projected by group_by (grouped_row_labels())
};

// For text APIs: the system message, history and prompt joined as plain text.
std::string prompt_text(const ResolvedPrompt& p);
// For chat APIs: system (if any) + messages, or the text as one user message.
std::vector<Message> prompt_messages(const ResolvedPrompt& p);
// The messages for turn `turn` (0-based) of a conversation: system, then for each earlier turn
// the user text and the reply (recorded, or live_replies[k] when given and long enough), then
// this turn's user text.
std::vector<Message> conversation_messages(const ResolvedPrompt& p, size_t turn,
                                           const std::vector<std::string>* live_replies);
// ≈ one token per whitespace-separated word (the estimate llmload uses everywhere).
int64_t estimate_tokens(std::string_view text);

// ---------------------------------------------------------------------------------------------
// Output, SLOs, sweep, pricing

struct Output {
  std::optional<Distribution> max_tokens;  // absent: the server's default (warned about)
  bool ignore_eos = false;  // ask the server to generate exactly max_tokens (vLLM, llama.cpp)
  std::optional<double> temperature;
  // Other sampling fields passed through into the request body as they are (top_p, seed,
  // stop, ...). Always a JSON object (possibly empty).
  nlohmann::json extra = nlohmann::json::object();
  // Ask for a streamed response (true) or one JSON body (false: ttfb and e2e, tokens from the
  // usage, no ttft/itl/tpot). An API that never streams (openai-embeddings) ignores it.
  bool stream = true;
  // Inputs per request for an API that takes a batch (openai-embeddings): each request sends
  // this many consecutive prompts of the run's list as its `input` array. 1 for every other API.
  int64_t batch = 1;
};

// `cancel:`: the client closes a share of its requests mid-way on purpose (an impatient user).
// Each request is picked with probability `share`; a picked one is closed `after` (a draw) from
// its first byte written, if it has not ended by then. Counted as client_cancelled: neither ok
// nor failed.
struct Cancel {
  double share = 0;                             // 0..1; 0: never
  Distribution after = Distribution::fixed(0);  // ns from the write to the close
  bool enabled() const { return share > 0; }
};

// Per-request thresholds: a request that succeeded and met every one set counts toward goodput.
struct RequestSlo {
  std::optional<int64_t> ttft_ns;
  std::optional<int64_t> ttfo_ns;
  std::optional<int64_t> tpot_ns;
  std::optional<int64_t> itl_ns;  // every inter-token gap of the request at most this
  std::optional<int64_t> e2e_ns;
  bool empty() const { return !ttft_ns && !ttfo_ns && !tpot_ns && !itl_ns && !e2e_ns; }
};

struct Slo {
  RequestSlo request;
  std::vector<SloAssertion> asserts;  // slo.assert, then --assert in command-line order
};

enum class SweepKind { kNone, kConcurrency, kRate, kSearch };

// `llmload sweep`: each step is one run of the scenario's load limits at one level.
struct Sweep {
  SweepKind kind = SweepKind::kNone;
  std::vector<int64_t> concurrency;  // kConcurrency: the levels, in order
  std::vector<double> rate;          // kRate: the levels, in order
  // kSearch: find the highest level that passes every assertion. Levels grow geometrically by
  // `factor` from `min` until one fails or `max` is reached, then bisect until the bracket is
  // narrower than `precision` (relative: 0.1 = 10 %).
  LoadMode search_mode = LoadMode::kConcurrency;
  double search_min = 1;
  double search_max = 1024;
  double search_factor = 2;
  double search_precision = 0.1;
};

enum class OnWorkerLoss {
  kContinue,  // keep going with the remaining workers; the run ends partial (exit 5)
  kStop,      // stop the run at once; partial (exit 5)
};

struct Price {
  double input_per_mtok = 0;   // USD per million input tokens
  double output_per_mtok = 0;  // USD per million output tokens
};

// ---------------------------------------------------------------------------------------------
// The scenario

struct Scenario {
  std::string name;         // `name:` or the file's stem
  std::string description;  // free text
  std::string source_path;  // the file it came from (absolute); empty when built in code
  std::string base_dir;     // relative paths in the file resolve against this

  std::vector<Target> targets;  // at least one
  Load load;
  PromptSource prompts;
  Output output;
  Cancel cancel;
  Slo slo;
  Sweep sweep;
  OnWorkerLoss on_worker_loss = OnWorkerLoss::kContinue;
  std::map<std::string, Price> pricing;     // model name → prices
  std::map<std::string, std::string> tags;  // labels that group results (task, team, ...)
  // `group_by:` the labels that split results into groups (target, model, tags, prompt row
  // labels); absent: every one of them.
  std::optional<std::vector<std::string>> group_by;
  uint64_t seed = 1;                        // every sampler derives from it
  int64_t interval_ns = 1'000'000'000;      // report interval
  // `rating:` tiers, best first (groups[].rating); empty: default_rating_tiers().
  std::vector<RatingTier> rating_tiers;

  // The overrides applied on top of the file, as given ("--concurrency 64"), with secret
  // header values shown as written (templates, never resolved values). Recorded in results.
  std::vector<std::string> overrides;
  // Non-fatal findings (a missing ${VAR} in validate, no max_tokens, ...).
  std::vector<std::string> warnings;
};

// Reads, parses and checks a scenario file. On failure the error holds EVERY problem found,
// one per line, each as `file:line: field.path: what (did you mean 'x'?)`.
Expected<Scenario> load_scenario(const std::string& path);
// The same from text; `display_name` is used in messages and `base_dir` for relative paths.
Expected<Scenario> parse_scenario(std::string_view text, const std::string& display_name,
                                  const std::string& base_dir);
// Whole-model checks that do not depend on where the values came from (limits present,
// stage modes match, ...): run again after apply_overrides(). Returns every problem.
std::vector<std::string> check_scenario(const Scenario& s);

// The target whose /metrics the run scrapes (Target::metrics_url); nullptr when none.
const Target* metrics_target(const Scenario& s);
// Why `url` cannot be a Target::metrics_url ("" → nullopt: fine): http://host[:port][/path]
// (no https, query or credentials), or "mock".
std::optional<std::string> metrics_url_problem(std::string_view url);

// The scenario as JSON in the same schema the file accepts (parse_scenario reads it back).
// kRedacted: secret header values are "***" (for results and logs).
// kWire: secret headers as {"value": <resolved>, "secret": true} (coordinator → worker only).
enum class JsonMode { kRedacted, kWire };
nlohmann::json scenario_to_json(const Scenario& s, JsonMode mode);
inline nlohmann::json redacted_json(const Scenario& s) {
  return scenario_to_json(s, JsonMode::kRedacted);
}
// Reads what scenario_to_json(kWire) produced (relative paths are already absolute).
Expected<Scenario> scenario_from_json(const nlohmann::json& j);

// Resolves ${VAR} in header templates from the environment and marks those headers secret.
// strict (run): a missing variable is an error naming the variable and header (never a value).
// not strict (validate): a missing variable becomes a warning in s.warnings and the value "".
// Returns the errors (empty: success).
std::vector<std::string> resolve_secrets(Scenario& s, bool strict);

// The prompts a run needs: `count` prompts sampled from the scenario's source with `seed`
// (same inputs → same prompts, on every machine), each with index 0..count-1, max_tokens
// drawn, unique prefixes applied. Reads the dataset file if the source has one; errors name
// the file and line.
Expected<std::vector<ResolvedPrompt>> sample_prompts(const Scenario& s, size_t count,
                                                     uint64_t seed);
// How many prompts to ship for a run: the request limit plus room for warmup when there is
// one, else a pool the engine cycles through (bounded).
// Whether the worker writes each request's prompt text itself (worker/body_template.h): trace
// replay and synthetic prompts, with or without prompts.tokenizer (with it, exact in that
// tokenizer's tokens: common/token_words.h).
bool prompts_written_on_worker(const Scenario& s);
size_t prompt_count_for_run(const Scenario& s);

// A prompt row's label: a Prometheus-style name, not `target` or `model`; bounded.
inline constexpr size_t kRowLabelsMax = 16;
inline constexpr size_t kRowLabelValueMax = 256;
// Why `name` cannot be a label name (nullopt: it can).
std::optional<std::string> label_name_problem(std::string_view name);
// Why a prompt row's labels cannot be used: too many, a bad name, a value too long or not
// UTF-8 (nullopt: fine).
std::optional<std::string> row_labels_problem(const Labels& labels);
// Whether `group_by` (absent: every label) keeps the label `key`. Tags always stay: they are the
// same on every result of the run, so they never split a group.
bool groups_by(const Scenario& s, std::string_view key);
// A prompt's row labels as the run groups them: only those group_by keeps.
Labels grouped_row_labels(const Scenario& s, const Labels& row);

// A group's labels (docs/metrics.md "Groups"): the scenario's tags, then `target` and `model`
// unless group_by leaves them out, then the prompt's (already projected) row labels, which win
// over a tag of the same name.
Labels group_labels(const Scenario& s, const Target& target, const ModelChoice& model,
                    const Labels& prompt_labels = {});
// Every group the run can have: target × model × the prompts' distinct label sets, in the
// scenario's order, deduplicated: known before load, so live exports can show each one (at zero)
// from the start.
std::vector<Labels> scenario_group_labels(const Scenario& s,
                                          const std::vector<ResolvedPrompt>& prompts = {});
// group_by names that are no label of this run (not target, model, a tag or a label of any of
// `prompts`): errors naming group_by (empty: fine).
std::vector<std::string> check_group_by(const Scenario& s,
                                        const std::vector<ResolvedPrompt>& prompts);

}  // namespace llmload
