/*
 * Hearth guest SDK for C: the JSON writer and reader of hearth.h (no
 * allocation: the writer fills the caller's buffer, the reader copies
 * unescaped strings into it). Compiled into every C plugin with hearth.c.
 */
#include "hearth.h"

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

