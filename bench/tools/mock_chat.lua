wrk.path = "/v1/chat/completions"
-- wrk script for bench/mock_speed.sh: every request a streamed OpenAI chat request.
wrk.method = "POST"
wrk.headers["Content-Type"] = "application/json"
wrk.body = '{"model":"m","messages":[{"role":"user","content":"hello there"}],"stream":true}'
