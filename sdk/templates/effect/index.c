/*
 * {{name}}: a Hearth audio effect (C, host API v1; sdk/c/hearth.h).
 *   on_audio_raw   gets each 20 ms capture frame (960 mono f32 samples at
 *                  48 kHz, little-endian, before Opus) and returns it
 *                  processed: a gain followed by a soft limiter.
 * Audio hooks run on the audio path: stay well inside limits.callMs.
 *
 * Build:   npx hearth plugin build {{id}}   (clang + lld: scripts/ensure-toolchains.sh)
 * Install: npx hearth plugin install {{id}}/manifest.json --grant-requested
 * Reference: docs/PLUGINS.md (section 6: audio frames).
 */
#include "hearth.h"

static float frame[960];
static char cfg[1024];
static float gain = 1.0f;
static int loaded = 0;

HEARTH_HOOK(on_audio_raw) {
  if (!loaded) {
    loaded = 1;
    hearth_config(cfg, sizeof cfg); /* "config.read" capability */
    gain = (float)hearth_json_number(cfg, "config.gain", 1.0);
  }
  size_t bytes = (size_t)extism_input_length();
  if (bytes > sizeof frame) bytes = sizeof frame;
  size_t n = bytes / 4;
  for (size_t i = 0; i + 1 < n; i += 2) {
    uint64_t v = extism_input_load_u64(i * 4);
    memcpy(&frame[i], &v, 8);
  }
  if (n & 1) {
    uint32_t bits = 0;
    for (uint64_t b = 0; b < 4; b++) bits |= (uint32_t)extism_input_load_u8((n - 1) * 4 + b) << (8 * b);
    memcpy(&frame[n - 1], &bits, 4);
  }
  for (size_t i = 0; i < n; i++) {
    float x = frame[i] * gain;
    /* Soft limiter: linear below 0.5, then bends towards +-1 (x / (1 + x) shape). */
    float a = x < 0 ? -x : x;
    float y = a <= 0.5f ? a : 0.5f + 0.5f * ((a - 0.5f) * 2.0f) / (1.0f + (a - 0.5f) * 2.0f);
    frame[i] = x < 0 ? -y : y;
  }
  hearth_output(frame, n * 4);
  return 0;
}
