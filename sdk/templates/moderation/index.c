/*
 * {{name}}: a Hearth chat filter (C, host API v1; sdk/c/hearth.h).
 *   on_chat   blocks messages that contain a word from the config ("words",
 *             matched case-insensitively for ASCII), counts strikes per user
 *             in storage, and mutes a user at "muteAfter" strikes (0: never).
 *
 * Build:   npx hearth plugin build {{id}}   (clang + lld: scripts/ensure-toolchains.sh)
 * Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
 * Reference: docs/PLUGINS.md. A complete filter (masking, flood limit, kick,
 * a linear-time multi-word scan): guests/wordfilter in the Hearth sources.
 */
#include "hearth.h"

#define MAX_WORDS 64
static char in[65536];
static char text[65536];
static char cfg[16384];
static char words[MAX_WORDS][65];
static int32_t nwords = -1;
static int64_t mute_after = 3;
static char key[64];
static char num[24];
static char reason[64];

static char lower(char c) { return c >= 'A' && c <= 'Z' ? (char)(c + 32) : c; }

/** Reads the config once ("config.read" capability): defaults in manifest.json, overlaid by the admin's values. */
static void configure(void) {
  if (nwords >= 0) return;
  nwords = 0;
  hearth_config(cfg, sizeof cfg);
  int32_t n = hearth_json_length(cfg, "config.words");
  char path[32] = "config.words.";
  for (int32_t i = 0; i < n && nwords < MAX_WORDS; i++) {
    hearth_itoa(i, path + 13);
    int32_t len = hearth_json_string(cfg, path, words[nwords], sizeof words[0]);
    if (len <= 0) continue;
    for (int32_t j = 0; j < len; j++) words[nwords][j] = lower(words[nwords][j]);
    nwords++;
  }
  mute_after = (int64_t)hearth_json_number(cfg, "config.muteAfter", (double)mute_after);
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

/** Every chat message passes here ("chat.intercept"): answer allow, block or rewrite. */
HEARTH_HOOK(on_chat) {
  configure();
  hearth_input(in, sizeof in);
  if (hearth_json_string(in, "text", text, sizeof text) < 0) {
    hearth_allow();
    return 0;
  }
  for (int32_t i = 0; i < nwords; i++) {
    if (!contains(text, words[i])) continue;
    int32_t uid = (int32_t)hearth_json_number(in, "user.id", -1);
    key[0] = 0;
    memcpy(key, "strikes:", 8);
    hearth_itoa(uid, key + 8);
    int64_t strikes = 1;
    if (hearth_kv_get(key, num, sizeof num) > 0) strikes = (int64_t)hearth_json_number(num, "", 0) + 1;
    hearth_kv_set(key, hearth_itoa(strikes, num));
    if (mute_after > 0 && strikes == mute_after) {
      /* "moderation" capability: the server carries the mute out after this call. */
      hearth_itoa(strikes, reason);
      hearth_moderate("mute", uid, reason, 0, 0);
      hearth_log("info", "muted a user");
    }
    hearth_block("message contains a filtered word");
    return 0;
  }
  hearth_allow();
  return 0;
}
