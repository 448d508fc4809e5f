/*
 * C Filter: a Hearth chat filter in C (sdk/c/hearth.h; docs/PLUGINS.md §15).
 *   on_chat    blocks a message that contains a configured word (ASCII
 *              case-insensitive), counting it in storage;
 *   /cfilter   answers how many messages it blocked.
 *
 * Build:   npx hearth plugin build examples/c-filter   (clang + lld)
 * Install: npx hearth plugin install examples/c-filter/manifest.json --grant-requested
 *
 * Freestanding C: no libc, no malloc. Everything lives in static buffers; a
 * message longer than `text` is checked up to the buffer's size.
 */
#include "hearth.h"

#define MAX_WORDS 64
static char in[65536];
static char text[32768];
static char cfg[8192];
static char words[MAX_WORDS][65];
static int32_t nwords = -1;
static char num[24];
static char answer[64];

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

static void configure(void) {
  if (nwords >= 0) return;
  nwords = 0;
  hearth_config(cfg, sizeof cfg); /* {"config":{"words":[...]}} */
  int32_t n = hearth_json_length(cfg, "config.words");
  char path[32] = "config.words.";
  for (int32_t i = 0; i < n && nwords < MAX_WORDS; i++) {
    hearth_itoa(i, path + 13);
    int32_t len = hearth_json_string(cfg, path, words[nwords], sizeof words[0]);
    if (len <= 0) continue;
    for (int32_t j = 0; j < len; j++) words[nwords][j] = lower(words[nwords][j]);
    nwords++;
  }
}

static int contains(const char *hay, const char *needle) {
  size_t n = strlen(needle);
  for (; *hay; hay++) {
    size_t i = 0;
    while (i < n && lower(hay[i]) == needle[i]) i++;
    if (i == n) return 1;
  }
  return 0;
}

static int64_t blocked(void) {
  return hearth_kv_get("blocked", num, sizeof num) > 0 ? (int64_t)hearth_json_number(num, "", 0) : 0;
}

HEARTH_HOOK(on_chat) {
  configure();
  hearth_input(in, sizeof in);
  if (hearth_json_string(in, "text", text, sizeof text) < 0) {
    hearth_allow();
    return 0;
  }
  for (int32_t i = 0; i < nwords; i++) {
    if (!contains(text, words[i])) continue;
    hearth_kv_set("blocked", hearth_itoa(blocked() + 1, num));
    hearth_log("info", "blocked a message");
    hearth_block("message contains a filtered word");
    return 0;
  }
  hearth_allow();
  return 0;
}

HEARTH_HOOK(on_command) {
  hearth_itoa(blocked(), answer);
  size_t n = strlen(answer);
  memcpy(answer + n, " messages blocked", 18);
  hearth_reply(answer);
  return 0;
}
