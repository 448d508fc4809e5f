/*
 * Hearth guest SDK for C: the implementation of hearth.h. Compiled into every
 * C plugin by `hearth plugin build` (freestanding: it defines the few libc
 * functions clang may emit calls to, so that the module imports nothing from
 * "env").
 */
#include "hearth.h"

/* ---- libc a freestanding build needs ----
 * no_builtin: otherwise the optimiser recognises these loops as memcpy/memset
 * and compiles them into calls to themselves. */
#define HEARTH_LIBC __attribute__((no_builtin("memcpy", "memset", "memmove")))
HEARTH_LIBC void *memcpy(void *dst, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  while (n--) *d++ = *s++;
  return dst;
}
HEARTH_LIBC void *memmove(void *dst, const void *src, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  const uint8_t *s = (const uint8_t *)src;
  if (d < s) while (n--) *d++ = *s++;
  else while (n--) d[n] = s[n];
  return dst;
}
HEARTH_LIBC void *memset(void *dst, int c, size_t n) {
  uint8_t *d = (uint8_t *)dst;
  while (n--) *d++ = (uint8_t)c;
  return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
  const uint8_t *x = (const uint8_t *)a, *y = (const uint8_t *)b;
  for (; n; n--, x++, y++) if (*x != *y) return *x - *y;
  return 0;
}
size_t strlen(const char *s) {
  size_t n = 0;
  while (s[n]) n++;
  return n;
}

/* ---- blocks: 8 bytes per kernel call where possible (each is a host call) ---- */
uint64_t hearth_block_from(const void *src, size_t n) {
  uint64_t offs = extism_alloc(n);
  const uint8_t *s = (const uint8_t *)src;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, s + i, 8);
    extism_store_u64(offs + i, v);
  }
  for (; i < n; i++) extism_store_u8(offs + i, s[i]);
  return offs;
}

size_t hearth_block_read(uint64_t offs, char *dst, size_t cap) {
  if (offs == 0) {
    if (cap) dst[0] = 0;
    return 0;
  }
  size_t n = (size_t)extism_length(offs);
  size_t take = cap ? (n < cap - 1 ? n : cap - 1) : 0;
  size_t i = 0;
  for (; i + 8 <= take; i += 8) {
    uint64_t v = extism_load_u64(offs + i);
    memcpy(dst + i, &v, 8);
  }
  for (; i < take; i++) dst[i] = (char)extism_load_u8(offs + i);
  if (cap) dst[take] = 0;
  extism_free(offs);
  return n;
}

size_t hearth_input(char *dst, size_t cap) {
  size_t n = (size_t)extism_input_length();
  size_t take = cap ? (n < cap - 1 ? n : cap - 1) : 0;
  size_t i = 0;
  for (; i + 8 <= take; i += 8) {
    uint64_t v = extism_input_load_u64(i);
    memcpy(dst + i, &v, 8);
  }
  for (; i < take; i++) dst[i] = (char)extism_input_load_u8(i);
  if (cap) dst[take] = 0;
  return n;
}

void hearth_output(const void *bytes, size_t n) { extism_output_set(hearth_block_from(bytes, n), n); }
void hearth_output_str(const char *s) { hearth_output(s, strlen(s)); }

/* ---- hook answers ---- */
static char answer[8192];
static void answer1(const char *k1, const char *v1, const char *k2, const char *v2) {
  hearth_writer w;
  hearth_w_begin(&w, answer, sizeof answer);
  if (k1) hearth_w_str(&w, k1, v1);
  if (k2) hearth_w_str(&w, k2, v2);
  const char *out = hearth_w_end(&w);
  hearth_output_str(out ? out : "{}");
}
void hearth_allow(void) { hearth_output_str("{\"action\":\"allow\"}"); }
void hearth_block(const char *reason) { answer1("action", "block", "reason", reason); }
void hearth_rewrite(const char *text) { answer1("action", "rewrite", "text", text); }
void hearth_reply(const char *text) { answer1("reply", text, 0, 0); }
void hearth_done(void) { hearth_output_str("{}"); }

/* ---- host API ---- */
static char request[8192];
static char scratch[4096];
size_t hearth_call(uint64_t (*fn)(uint64_t), const char *request_json, char *reply, size_t cap) {
  return hearth_block_read(fn(hearth_block_from(request_json, strlen(request_json))), reply, cap);
}
size_t hearth_state_read(char *reply, size_t cap) { return hearth_call(hearth_import_state_read, "{}", reply, cap); }
size_t hearth_chat_send(const char *text, int32_t channel_id, char *reply, size_t cap) {
  hearth_writer w;
  hearth_w_begin(&w, request, sizeof request);
  hearth_w_str(&w, "text", text);
  if (channel_id >= 0) hearth_w_num(&w, "channelId", channel_id);
  const char *req = hearth_w_end(&w);
  return req ? hearth_call(hearth_import_chat_send, req, reply, cap) : 0;
}
static int is_error(const char *reply) { return hearth_json_string(reply, "error", scratch, 64) >= 0; }
int32_t hearth_kv_get(const char *key, char *out, size_t cap) {
  hearth_writer w;
  hearth_w_begin(&w, request, sizeof request);
  hearth_w_str(&w, "key", key);
  const char *req = hearth_w_end(&w);
  if (!req) return -1;
  static char reply[8192];
  hearth_call(hearth_import_kv_get, req, reply, sizeof reply);
  return hearth_json_string(reply, "value", out, cap);
}
int32_t hearth_kv_set(const char *key, const char *value) {
  hearth_writer w;
  hearth_w_begin(&w, request, sizeof request);
  hearth_w_str(&w, "key", key);
  hearth_w_str(&w, "value", value);
  const char *req = hearth_w_end(&w);
  if (!req) return -1;
  hearth_call(hearth_import_kv_set, req, scratch, sizeof scratch);
  return is_error(scratch) ? -1 : 0;
}
int32_t hearth_kv_delete(const char *key) {
  hearth_writer w;
  hearth_w_begin(&w, request, sizeof request);
  hearth_w_str(&w, "key", key);
  const char *req = hearth_w_end(&w);
  if (!req) return -1;
  hearth_call(hearth_import_kv_delete, req, scratch, sizeof scratch);
  return is_error(scratch) ? -1 : 0;
}
size_t hearth_moderate(const char *action, int32_t user_id, const char *reason, char *reply, size_t cap) {
  hearth_writer w;
  hearth_w_begin(&w, request, sizeof request);
  hearth_w_str(&w, "action", action);
  hearth_w_num(&w, "userId", user_id);
  hearth_w_str(&w, "reason", reason);
  const char *req = hearth_w_end(&w);
  return req ? hearth_call(hearth_import_moderate, req, reply, cap) : 0;
}
void hearth_log(const char *level, const char *msg) {
  hearth_writer w;
  hearth_w_begin(&w, request, sizeof request);
  hearth_w_str(&w, "level", level);
  hearth_w_str(&w, "msg", msg);
  const char *req = hearth_w_end(&w);
  if (req) hearth_call(hearth_import_log, req, 0, 0);
}
size_t hearth_config(char *reply, size_t cap) { return hearth_call(hearth_import_config_get, "{}", reply, cap); }
void hearth_abort(const char *message) {
  hearth_writer w;
  hearth_w_begin(&w, request, sizeof request);
  hearth_w_str(&w, "message", message);
  const char *req = hearth_w_end(&w);
  hearth_call(hearth_import_abort, req ? req : "{\"message\":\"abort\"}", 0, 0);
  __builtin_trap();
}

/* Called once by the host at load, before the first hook (sandbox-worker.ts),
 * so that V8 compiles the SDK's JSON code now rather than during the first
 * real call. No input, no host calls. */
__attribute__((export_name("hearth_warmup"))) int32_t hearth_warmup(void) {
  static char buf[256];
  const char *json = "{\"user\":{\"id\":1,\"name\":\"warm\"},\"text\":\"hi\\u00e9\",\"list\":[1,2]}";
  hearth_json_string(json, "user.name", buf, sizeof buf);
  hearth_json_string(json, "text", buf, sizeof buf);
  int32_t n = hearth_json_length(json, "list") + (int32_t)hearth_json_number(json, "user.id", 0);
  hearth_writer w;
  hearth_w_begin(&w, buf, sizeof buf);
  hearth_w_str(&w, "reply", "warm \"up\"");
  hearth_w_num(&w, "n", n);
  return hearth_w_end(&w) ? 0 : 1;
}
