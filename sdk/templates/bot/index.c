/*
 * {{name}}: a Hearth chat bot (C, host API v1; sdk/c/hearth.h).
 *   on_join   greets each user who joins a channel and counts their visits
 *             in the plugin's storage (kept in the server's database).
 *   /hello    answers "Hello, NAME!".
 *
 * Build:   npx hearth plugin build {{id}}   (clang + lld: scripts/ensure-toolchains.sh)
 * Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
 * Reference: docs/PLUGINS.md (hooks, host functions, the C SDK).
 *
 * No libc and no malloc: work in static buffers. Input longer than a buffer
 * is cut at its size (hearth_input returns the full length).
 */
#include "hearth.h"

static char in[16384];
static char name[128];
static char text[512];
static char key[64];
static char num[24];

static void append(char *dst, size_t cap, const char *s) {
  size_t n = strlen(dst);
  while (*s && n + 1 < cap) dst[n++] = *s++;
  dst[n] = 0;
}

/** Called when a user enters a channel (needs the "state.read" capability). */
HEARTH_HOOK(on_join) {
  hearth_input(in, sizeof in);
  if (hearth_json_string(in, "user.name", name, sizeof name) < 0) {
    hearth_done();
    return 0;
  }
  int32_t channel = (int32_t)hearth_json_number(in, "channelId", -1);
  /* Storage ("storage" capability): a small key/value store per plugin. */
  key[0] = 0;
  append(key, sizeof key, "visits:");
  append(key, sizeof key, hearth_itoa((int64_t)hearth_json_number(in, "user.id", 0), num));
  int64_t visits = 1;
  if (hearth_kv_get(key, num, sizeof num) > 0) visits = (int64_t)hearth_json_number(num, "", 0) + 1;
  hearth_kv_set(key, hearth_itoa(visits, num));
  text[0] = 0;
  append(text, sizeof text, visits == 1 ? "Welcome, " : "Welcome back, ");
  append(text, sizeof text, name);
  append(text, sizeof text, "!");
  if (visits > 1) {
    append(text, sizeof text, " Visit #");
    append(text, sizeof text, hearth_itoa(visits, num));
    append(text, sizeof text, ".");
  }
  /* Post as the bot ("chat.inject" capability), in the channel the user joined. */
  hearth_chat_send(text, channel, 0, 0);
  hearth_done();
  return 0;
}

/** Called for the commands listed in manifest.json ("commands"). */
HEARTH_HOOK(on_command) {
  hearth_input(in, sizeof in);
  char command[40];
  if (hearth_json_string(in, "command", command, sizeof command) < 0 || memcmp(command, "hello", 6) != 0 ||
      hearth_json_string(in, "user.name", name, sizeof name) < 0) {
    hearth_done();
    return 0;
  }
  text[0] = 0;
  append(text, sizeof text, "Hello, ");
  append(text, sizeof text, name);
  append(text, sizeof text, "!");
  hearth_reply(text);
  return 0;
}
