-- wrk -t1 -cN -s bench/wrk/stream_chat.lua URL: every request a streamed OpenAI chat request,
-- the same body bare_reader and the llmload scenario of bench/engine_cpu.sh send (max_tokens
-- from the environment MAX_TOKENS, default 200; no stream_options, so no usage chunk).
-- No response() callback: wrk then parses only HTTP and never hands the body to Lua.
local max_tokens = os.getenv("MAX_TOKENS") or "200"
wrk.method = "POST"
wrk.path = "/v1/chat/completions"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"mock","stream":true,"max_tokens":' .. max_tokens ..
           ',"messages":[{"role":"user","content":"hello"}]}'
