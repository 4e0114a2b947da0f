/* bare_reader: the yardstick for client CPU per streamed token. N keep-alive connections each
 * POST the same streaming chat request, read the response with llhttp (HTTP framing only: no
 * SSE parsing, no classification, no recording) and send the next request when one ends.
 *
 *   bare_reader HOST PORT CONNECTIONS REQUESTS_PER_CONNECTION [MAX_TOKENS]
 *
 * Prints responses, body reads and the process CPU time (user+sys) per body read, so it can be
 * compared with `llmload run --threads 1` on the same load. Loopback only by intent. */
#include <llhttp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <uv.h>

typedef struct {
  uv_tcp_t tcp;
  uv_connect_t connect;
  uv_write_t write;
  llhttp_t parser;
  int left;
} conn_t;

static llhttp_settings_t settings;
static char request[1024];
static size_t request_len;
static long responses, body_reads, errors;
static char read_buf[65536];

static void send_request(conn_t* c);

static int on_body(llhttp_t* p, const char* at, size_t len) {
  (void)p, (void)at, (void)len;
  ++body_reads;
  return 0;
}

static int on_complete(llhttp_t* p) {
  conn_t* c = (conn_t*)p->data;
  ++responses;
  if (--c->left > 0) {
    send_request(c);
  } else {
    uv_close((uv_handle_t*)&c->tcp, NULL);
  }
  return HPE_PAUSED;
}

static void alloc_cb(uv_handle_t* h, size_t n, uv_buf_t* b) {
  (void)h, (void)n;
  *b = uv_buf_init(read_buf, sizeof read_buf);
}

static void read_cb(uv_stream_t* s, ssize_t n, const uv_buf_t* b) {
  conn_t* c = (conn_t*)s->data;
  if (n < 0) {
    if (c->left > 0) ++errors;
    if (!uv_is_closing((uv_handle_t*)s)) uv_close((uv_handle_t*)s, NULL);
    return;
  }
  const char* p = b->base;
  size_t left = (size_t)n;
  while (left > 0) {
    llhttp_errno_t e = llhttp_execute(&c->parser, p, left);
    if (e == HPE_OK) break;
    if (e == HPE_PAUSED) {
      size_t used = (size_t)(llhttp_get_error_pos(&c->parser) - p);
      llhttp_resume(&c->parser);
      llhttp_init(&c->parser, HTTP_RESPONSE, &settings);
      c->parser.data = c;
      p += used;
      left -= used;
      if (uv_is_closing((uv_handle_t*)s)) return;
      continue;
    }
    ++errors;
    uv_close((uv_handle_t*)s, NULL);
    return;
  }
}

static void write_cb(uv_write_t* w, int status) {
  if (status < 0) ++errors;
  (void)w;
}

static void send_request(conn_t* c) {
  uv_buf_t b = uv_buf_init(request, (unsigned)request_len);
  uv_write(&c->write, (uv_stream_t*)&c->tcp, &b, 1, write_cb);
}

static void connect_cb(uv_connect_t* r, int status) {
  conn_t* c = (conn_t*)r->data;
  if (status < 0) {
    ++errors;
    uv_close((uv_handle_t*)&c->tcp, NULL);
    return;
  }
  uv_tcp_nodelay(&c->tcp, 1);
  uv_read_start((uv_stream_t*)&c->tcp, alloc_cb, read_cb);
  send_request(c);
}

int main(int argc, char** argv) {
  if (argc < 5) {
    fprintf(stderr, "usage: %s HOST PORT CONNECTIONS REQUESTS_PER_CONNECTION [MAX_TOKENS]\n", argv[0]);
    return 2;
  }
  const char* host = argv[1];
  const int port = atoi(argv[2]), n = atoi(argv[3]), per = atoi(argv[4]);
  const int max_tokens = argc > 5 ? atoi(argv[5]) : 64;
  char body[256];
  int blen = snprintf(body, sizeof body,
                      "{\"model\":\"mock\",\"stream\":true,\"max_tokens\":%d,"
                      "\"messages\":[{\"role\":\"user\",\"content\":\"hello\"}]}",
                      max_tokens);
  request_len = (size_t)snprintf(request, sizeof request,
                                 "POST /v1/chat/completions HTTP/1.1\r\nHost: %s:%d\r\n"
                                 "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n%s",
                                 host, port, blen, body);
  struct rlimit rl;
  if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
    rl.rlim_cur = rl.rlim_max;
    setrlimit(RLIMIT_NOFILE, &rl);
  }
  llhttp_settings_init(&settings);
  settings.on_body = on_body;
  settings.on_message_complete = on_complete;
  struct sockaddr_in addr;
  uv_ip4_addr(host, port, &addr);
  uv_loop_t* loop = uv_default_loop();
  conn_t* conns = calloc((size_t)n, sizeof *conns);
  for (int i = 0; i < n; ++i) {
    conn_t* c = &conns[i];
    c->left = per;
    uv_tcp_init(loop, &c->tcp);
    c->tcp.data = c;
    c->connect.data = c;
    llhttp_init(&c->parser, HTTP_RESPONSE, &settings);
    c->parser.data = c;
    uv_tcp_connect(&c->connect, &c->tcp, (const struct sockaddr*)&addr, connect_cb);
  }
  uv_run(loop, UV_RUN_DEFAULT);
  struct rusage ru;
  getrusage(RUSAGE_SELF, &ru);
  const double cpu = (double)ru.ru_utime.tv_sec + ru.ru_utime.tv_usec / 1e6 +
                     (double)ru.ru_stime.tv_sec + ru.ru_stime.tv_usec / 1e6;
  printf("responses %ld body_reads %ld errors %ld cpu_s %.3f cpu_us_per_read %.2f\n", responses,
         body_reads, errors, cpu, body_reads ? cpu * 1e6 / (double)body_reads : 0.0);
  free(conns);
  return errors ? 1 : 0;
}
