/* bare_writer: the yardstick for the mock's CPU cost. A minimal libuv HTTP/1.1 server that
 * answers every request with the same bytes as `llmload mock --usage chunk` sends for a streamed
 * OpenAI chat request without include_usage (headers, role chunk, one chunk per token with the
 * mock's own words, finish chunk, [DONE], last chunk) on the same schedule (first token at
 * received + ttft, token i at first + i * itl), keep-alive. No parsing beyond finding the end of
 * the request, no options per request, one uv_timer per connection.
 *
 *   bare_writer [--port P] [--ttft-us 50000] [--itl-us 10000] [--tokens 64] [--seed 1]
 * Prints "bare_writer listening on http://127.0.0.1:PORT", serves until SIGINT/SIGTERM. */
#define _GNU_SOURCE
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <uv.h>

static uint64_t g_ttft_us = 50000, g_itl_us = 10000, g_seed = 1;
static int g_tokens = 64;
static uv_loop_t* g_loop;
static uint64_t g_seq;

/* The mock's TokenText, restated: 4096 words of 2-4 consonant+vowel syllables. */
#define WORDS 4096
static char g_words[WORDS][16];
static int g_word_len[WORDS];

static uint64_t mix64(uint64_t a, uint64_t b) {
  uint64_t z = a * 0x9E3779B97F4A7C15ull + b + 0x632BE59BD9B4E019ull;
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static uint64_t g_rng;
static uint64_t rng_next(void) {
  uint64_t z = (g_rng += 0x9E3779B97F4A7C15ull);
  z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
  z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
  return z ^ (z >> 31);
}
static void make_words(void) {
  static const char* cons = "bdfghjklmnprstvz";
  static const char* vow = "aeiou";
  g_rng = mix64(g_seed, 0x746f6b656eull);
  for (int w = 0; w < WORDS; ++w) {
    int n = 0;
    g_words[w][n++] = ' ';
    int syl = 2 + (int)(rng_next() % 3);
    for (int s = 0; s < syl; ++s) {
      uint64_t r = rng_next();
      g_words[w][n++] = cons[r % 16];
      g_words[w][n++] = vow[(r >> 8) % 5];
    }
    g_word_len[w] = n;
  }
}

typedef struct conn {
  uv_tcp_t tcp;
  uv_timer_t timer;
  char in[8192];
  size_t in_len;
  int streaming;
  int sent;
  uint64_t key;
  char id[32];
  long created;
  uint64_t first_due_ns;
  int closing;
} conn_t;

static char g_out[4096];

static void on_write_done(uv_write_t* req, int status) {
  (void)status;
  free(req);
}

static void send_bytes(conn_t* c, const char* p, size_t n) {
  uv_buf_t b = uv_buf_init((char*)p, (unsigned)n);
  int r = uv_try_write((uv_stream_t*)&c->tcp, &b, 1);
  if (r == (int)n) return;
  if (r < 0 && r != UV_EAGAIN) return;
  size_t done = r > 0 ? (size_t)r : 0;
  uv_write_t* req = malloc(sizeof(uv_write_t) + n - done);
  memcpy((char*)(req + 1), p + done, n - done);
  uv_buf_t rest = uv_buf_init((char*)(req + 1), (unsigned)(n - done));
  uv_write(req, (uv_stream_t*)&c->tcp, &rest, 1, on_write_done);
}

/* One event as one HTTP chunk appended at out+len; returns the new length. */
static size_t chunk(char* out, size_t len, const char* ev, size_t ev_len) {
  len += (size_t)sprintf(out + len, "%zx\r\n", ev_len);
  memcpy(out + len, ev, ev_len);
  len += ev_len;
  memcpy(out + len, "\r\n", 2);
  return len + 2;
}

static size_t head(conn_t* c, char* ev) {
  return (size_t)sprintf(ev,
                         "data: {\"id\":\"chatcmpl-%s\",\"object\":\"chat.completion.chunk\","
                         "\"created\":%ld,\"model\":\"m\",\"choices\":[",
                         c->id, c->created);
}

static void on_tick(uv_timer_t* t);

static void arm(conn_t* c) {
  uint64_t due = c->first_due_ns + (uint64_t)c->sent * g_itl_us * 1000;
  uint64_t now = uv_hrtime();
  uint64_t ms = due > now ? (due - now + 999999) / 1000000 : 0;
  uv_timer_start(&c->timer, on_tick, ms, 0);
}

static void on_tick(uv_timer_t* t) {
  conn_t* c = t->data;
  char ev[512];
  size_t len = 0, e = head(c, ev);
  const int w = (int)(mix64(mix64(g_seed, c->key), (uint64_t)c->sent) % WORDS);
  e += (size_t)sprintf(ev + e,
                       "{\"index\":0,\"delta\":{\"content\":\"%.*s\"},\"logprobs\":null,"
                       "\"finish_reason\":null}]}\n\n",
                       g_word_len[w], g_words[w]);
  len = chunk(g_out, len, ev, e);
  c->sent++;
  if (c->sent >= g_tokens) {
    e = head(c, ev);
    e += (size_t)sprintf(
        ev + e, "{\"index\":0,\"delta\":{},\"logprobs\":null,\"finish_reason\":\"stop\"}]}\n\n");
    len = chunk(g_out, len, ev, e);
    len = chunk(g_out, len, "data: [DONE]\n\n", 14);
    memcpy(g_out + len, "0\r\n\r\n", 5);
    len += 5;
    send_bytes(c, g_out, len);
    c->streaming = 0;
    return;
  }
  send_bytes(c, g_out, len);
  arm(c);
}

static void respond(conn_t* c) {
  c->streaming = 1;
  c->sent = 0;
  ++g_seq;
  c->key = mix64(0, g_seq);
  snprintf(c->id, sizeof c->id, "mock-0-%llu", (unsigned long long)g_seq);
  c->created = (long)time(NULL);
  size_t len = (size_t)sprintf(g_out,
                               "HTTP/1.1 200 OK\r\nContent-Type: text/event-stream\r\n"
                               "Transfer-Encoding: chunked\r\nCache-Control: no-cache\r\n"
                               "Connection: keep-alive\r\nServer: llmload-mock\r\n"
                               "x-request-id: %s\r\n\r\n",
                               c->id);
  char ev[512];
  size_t e = head(c, ev);
  e += (size_t)sprintf(ev + e,
                       "{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},"
                       "\"logprobs\":null,\"finish_reason\":null}]}\n\n");
  len = chunk(g_out, len, ev, e);
  send_bytes(c, g_out, len);
  c->first_due_ns = uv_hrtime() + g_ttft_us * 1000;
  arm(c);
}

/* A complete request: headers end, and Content-Length bytes after them. */
static int request_complete(conn_t* c, size_t* used) {
  char* end = memmem(c->in, c->in_len, "\r\n\r\n", 4);
  if (!end) return 0;
  size_t hlen = (size_t)(end - c->in) + 4;
  size_t clen = 0;
  char* cl = memmem(c->in, hlen, "Content-Length:", 15);
  if (!cl) cl = memmem(c->in, hlen, "content-length:", 15);
  if (cl) clen = strtoul(cl + 15, NULL, 10);
  if (c->in_len < hlen + clen) return 0;
  *used = hlen + clen;
  return 1;
}

static void on_closed(uv_handle_t* h) {
  conn_t* c = h->data;
  if (--c->closing == 0) free(c);
}

static void close_conn(conn_t* c) {
  if (c->closing) return;
  c->closing = 2;
  uv_close((uv_handle_t*)&c->timer, on_closed);
  uv_close((uv_handle_t*)&c->tcp, on_closed);
}

static void on_alloc(uv_handle_t* h, size_t s, uv_buf_t* b) {
  conn_t* c = h->data;
  (void)s;
  *b = uv_buf_init(c->in + c->in_len, (unsigned)(sizeof c->in - c->in_len));
}

static void on_read(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
  conn_t* c = s->data;
  (void)b;
  if (n < 0) {
    close_conn(c);
    return;
  }
  c->in_len += (size_t)n;
  size_t used;
  if (!c->streaming && request_complete(c, &used)) {
    memmove(c->in, c->in + used, c->in_len - used);
    c->in_len -= used;
    respond(c);
  }
  if (c->in_len == sizeof c->in) close_conn(c);
}

static void on_conn(uv_stream_t* server, int status) {
  if (status < 0) return;
  conn_t* c = calloc(1, sizeof *c);
  uv_tcp_init(g_loop, &c->tcp);
  uv_timer_init(g_loop, &c->timer);
  c->tcp.data = c->timer.data = c;
  if (uv_accept(server, (uv_stream_t*)&c->tcp) != 0) {
    close_conn(c);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t*)&c->tcp, on_alloc, on_read);
}

static void on_signal(uv_signal_t* s, int sig) {
  (void)sig;
  uv_stop(s->loop);
}

int main(int argc, char** argv) {
  int port = 0;
  for (int i = 1; i + 1 < argc; i += 2) {
    if (!strcmp(argv[i], "--port"))
      port = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--ttft-us"))
      g_ttft_us = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--itl-us"))
      g_itl_us = strtoull(argv[i + 1], NULL, 10);
    else if (!strcmp(argv[i], "--tokens"))
      g_tokens = atoi(argv[i + 1]);
    else if (!strcmp(argv[i], "--seed"))
      g_seed = strtoull(argv[i + 1], NULL, 10);
    else {
      fprintf(stderr, "bare_writer: unknown flag %s\n", argv[i]);
      return 2;
    }
  }
  make_words();
  g_loop = uv_default_loop();
  uv_tcp_t server;
  uv_tcp_init(g_loop, &server);
  struct sockaddr_in addr;
  uv_ip4_addr("127.0.0.1", port, &addr);
  if (uv_tcp_bind(&server, (const struct sockaddr*)&addr, 0) ||
      uv_listen((uv_stream_t*)&server, 65535, on_conn)) {
    fprintf(stderr, "bare_writer: cannot listen on port %d\n", port);
    return 1;
  }
  struct sockaddr_storage bound;
  int blen = sizeof bound;
  uv_tcp_getsockname(&server, (struct sockaddr*)&bound, &blen);
  printf("bare_writer listening on http://127.0.0.1:%d\n",
         ntohs(((struct sockaddr_in*)&bound)->sin_port));
  fflush(stdout);
  uv_signal_t sigint, sigterm;
  uv_signal_init(g_loop, &sigint);
  uv_signal_init(g_loop, &sigterm);
  uv_signal_start(&sigint, on_signal, SIGINT);
  uv_signal_start(&sigterm, on_signal, SIGTERM);
  uv_run(g_loop, UV_RUN_DEFAULT);
  return 0;
}
