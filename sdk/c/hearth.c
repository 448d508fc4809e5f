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

/* ---- JSON writer ---- */
static void w_put(hearth_writer *w, const char *s, size_t n) {
  if (w->len + n + 2 > w->cap) {
    w->overflow = 1;
    return;
  }
  memcpy(w->buf + w->len, s, n);
  w->len += n;
}
static void w_quote(hearth_writer *w, const char *s) {
  static const char hex[] = "0123456789abcdef";
  w_put(w, "\"", 1);
  for (; *s; s++) {
    uint8_t c = (uint8_t)*s;
    if (c == '"' || c == '\\') {
      char e[2] = {'\\', (char)c};
      w_put(w, e, 2);
    } else if (c < 0x20) {
      char e[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
      w_put(w, e, 6);
    } else w_put(w, (const char *)&c, 1);
  }
  w_put(w, "\"", 1);
}
static void w_key(hearth_writer *w, const char *key) {
  if (!w->first) w_put(w, ",", 1);
  w->first = 0;
  w_quote(w, key);
  w_put(w, ":", 1);
}
void hearth_w_begin(hearth_writer *w, char *buf, size_t cap) {
  w->buf = buf;
  w->cap = cap;
  w->len = 0;
  w->first = 1;
  w->overflow = 0;
  w_put(w, "{", 1);
}
void hearth_w_str(hearth_writer *w, const char *key, const char *value) {
  w_key(w, key);
  w_quote(w, value);
}
char *hearth_itoa(int64_t v, char *out) {
  char tmp[24];
  int n = 0, neg = v < 0;
  uint64_t u = neg ? (uint64_t)(-(v + 1)) + 1 : (uint64_t)v;
  do tmp[n++] = (char)('0' + u % 10); while (u /= 10);
  int i = 0;
  if (neg) out[i++] = '-';
  while (n) out[i++] = tmp[--n];
  out[i] = 0;
  return out;
}
void hearth_w_num(hearth_writer *w, const char *key, double value) {
  /* Integers are what the host API takes (ids, counts); fractions are truncated. */
  char num[24];
  w_key(w, key);
  hearth_itoa((int64_t)value, num);
  w_put(w, num, strlen(num));
}
void hearth_w_raw(hearth_writer *w, const char *key, const char *json) {
  w_key(w, key);
  w_put(w, json, strlen(json));
}
const char *hearth_w_end(hearth_writer *w) {
  w_put(w, "}", 1);
  if (w->overflow) return 0;
  w->buf[w->len] = 0;
  return w->buf;
}

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

/* ---- JSON reader ---- */
static const char *skip_ws(const char *p) {
  while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r') p++;
  return p;
}
/* Skips one value; returns the position after it (0 on malformed input). */
static const char *skip_value(const char *p) {
  p = skip_ws(p);
  if (*p == '"') {
    for (p++; *p && *p != '"'; p++) if (*p == '\\' && p[1]) p++;
    return *p ? p + 1 : 0;
  }
  if (*p == '{' || *p == '[') {
    int depth = 0;
    for (; *p; p++) {
      if (*p == '"') {
        p = skip_value(p);
        if (!p) return 0;
        p--;
      } else if (*p == '{' || *p == '[') depth++;
      else if ((*p == '}' || *p == ']') && --depth == 0) return p + 1;
    }
    return 0;
  }
  while (*p && *p != ',' && *p != '}' && *p != ']' && *p != ' ' && *p != '\n') p++;
  return p;
}
static int key_eq(const char *q, const char *seg, size_t n) {
  /* q points at the opening quote of a key without escapes (host keys have none). */
  q++;
  for (size_t i = 0; i < n; i++) if (q[i] != seg[i]) return 0;
  return q[n] == '"';
}
/* Finds the value at a dotted path; 0 when absent. */
static const char *find(const char *json, const char *path) {
  const char *p = skip_ws(json);
  while (*path) {
    const char *seg = path;
    size_t n = 0;
    while (seg[n] && seg[n] != '.') n++;
    path = seg[n] ? seg + n + 1 : seg + n;
    if (*p == '{') {
      p = skip_ws(p + 1);
      const char *found = 0;
      while (*p == '"') {
        const char *k = p;
        p = skip_value(p);
        if (!p) return 0;
        p = skip_ws(p);
        if (*p != ':') return 0;
        p = skip_ws(p + 1);
        if (key_eq(k, seg, n)) {
          found = p;
          break;
        }
        p = skip_value(p);
        if (!p) return 0;
        p = skip_ws(p);
        if (*p == ',') p = skip_ws(p + 1);
      }
      if (!found) return 0;
      p = found;
    } else if (*p == '[') {
      size_t index = 0;
      for (size_t i = 0; i < n; i++) {
        if (seg[i] < '0' || seg[i] > '9') return 0;
        index = index * 10 + (size_t)(seg[i] - '0');
      }
      p = skip_ws(p + 1);
      for (size_t i = 0; i < index; i++) {
        if (*p == ']') return 0;
        p = skip_value(p);
        if (!p) return 0;
        p = skip_ws(p);
        if (*p == ',') p = skip_ws(p + 1);
      }
      if (*p == ']') return 0;
    } else return 0;
  }
  return p;
}
static void put_utf8(char *out, size_t cap, size_t *len, uint32_t cp) {
  char b[4];
  int n;
  if (cp < 0x80) { b[0] = (char)cp; n = 1; }
  else if (cp < 0x800) { b[0] = (char)(0xc0 | cp >> 6); b[1] = (char)(0x80 | (cp & 63)); n = 2; }
  else if (cp < 0x10000) { b[0] = (char)(0xe0 | cp >> 12); b[1] = (char)(0x80 | ((cp >> 6) & 63)); b[2] = (char)(0x80 | (cp & 63)); n = 3; }
  else { b[0] = (char)(0xf0 | cp >> 18); b[1] = (char)(0x80 | ((cp >> 12) & 63)); b[2] = (char)(0x80 | ((cp >> 6) & 63)); b[3] = (char)(0x80 | (cp & 63)); n = 4; }
  for (int i = 0; i < n; i++) if (*len + 1 < cap) out[(*len)++] = b[i];
}
static uint32_t hex4(const char *p) {
  uint32_t v = 0;
  for (int i = 0; i < 4; i++) {
    char c = p[i];
    v = v * 16 + (uint32_t)(c >= 'a' ? c - 'a' + 10 : c >= 'A' ? c - 'A' + 10 : c - '0');
  }
  return v;
}
int32_t hearth_json_string(const char *json, const char *path, char *out, size_t cap) {
  const char *p = find(json, path);
  if (!p || *p != '"' || cap == 0) return -1;
  size_t len = 0;
  for (p++; *p && *p != '"'; p++) {
    if (*p != '\\') {
      if (len + 1 < cap) out[len++] = *p;
      continue;
    }
    p++;
    char c = *p;
    if (c == 'u' && p[1] && p[2] && p[3] && p[4]) {
      uint32_t cp = hex4(p + 1);
      p += 4;
      if (cp >= 0xd800 && cp < 0xdc00 && p[1] == '\\' && p[2] == 'u') {
        cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(p + 3) - 0xdc00);
        p += 6;
      }
      put_utf8(out, cap, &len, cp);
    } else {
      char e = c == 'n' ? '\n' : c == 't' ? '\t' : c == 'r' ? '\r' : c == 'b' ? '\b' : c == 'f' ? '\f' : c;
      if (len + 1 < cap) out[len++] = e;
    }
  }
  out[len] = 0;
  return (int32_t)len;
}
double hearth_json_number(const char *json, const char *path, double fallback) {
  const char *p = find(json, path);
  if (!p) return fallback;
  int neg = 0;
  if (*p == '-') { neg = 1; p++; }
  if (*p < '0' || *p > '9') return fallback;
  double v = 0, scale = 1;
  while (*p >= '0' && *p <= '9') v = v * 10 + (*p++ - '0');
  if (*p == '.') for (p++; *p >= '0' && *p <= '9'; p++) v += (*p - '0') * (scale /= 10);
  return neg ? -v : v;
}
int32_t hearth_json_bool(const char *json, const char *path, int32_t fallback) {
  const char *p = find(json, path);
  if (!p) return fallback;
  if (p[0] == 't') return 1;
  if (p[0] == 'f') return 0;
  return fallback;
}
int32_t hearth_json_length(const char *json, const char *path) {
  const char *p = *path ? find(json, path) : skip_ws(json);
  if (!p || *p != '[') return -1;
  p = skip_ws(p + 1);
  int32_t n = 0;
  while (*p && *p != ']') {
    p = skip_value(p);
    if (!p) return -1;
    n++;
    p = skip_ws(p);
    if (*p == ',') p = skip_ws(p + 1);
  }
  return n;
}

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
