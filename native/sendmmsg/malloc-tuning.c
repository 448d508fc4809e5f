// glibc malloc settings for a long-running server (host/server/memory.ts says
// when they are applied and what they measured). Outside glibc the functions
// exist and do nothing, so callers need no platform checks.
#include <node_api.h>
#include <stdint.h>
#ifdef __GLIBC__
#include <malloc.h>
#endif

#include "malloc-tuning.h"

// tuneMalloc(mmapThresholdBytes, arenaMax) -> boolean (applied)
// A fixed mmap threshold keeps big short-lived blocks (an argon2 hash's
// 19 MiB) out of the heap: glibc's dynamic threshold would otherwise rise to
// the size of the first such block freed, and every later one would be carved
// from an arena and stay resident after it is freed.
napi_value malloc_tune(napi_env env, napi_callback_info info) {
  size_t argc = 2;
  napi_value argv[2];
  napi_value result;
  uint32_t threshold = 0, arenas = 0;
  if (napi_get_cb_info(env, info, &argc, argv, NULL, NULL) != napi_ok || argc < 2 ||
      napi_get_value_uint32(env, argv[0], &threshold) != napi_ok ||
      napi_get_value_uint32(env, argv[1], &arenas) != napi_ok) {
    napi_throw_type_error(env, NULL, "tuneMalloc(mmapThresholdBytes, arenaMax): two unsigned integers");
    return NULL;
  }
  bool ok = false;
#ifdef __GLIBC__
  ok = mallopt(M_MMAP_THRESHOLD, (int)threshold) == 1;
  if (arenas > 0) ok = (mallopt(M_ARENA_MAX, (int)arenas) == 1) && ok;
#endif
  napi_get_boolean(env, ok, &result);
  return result;
}

// trimMalloc() -> boolean (memory was returned to the system)
// Gives back the free pages inside malloc's heaps (not only at their top), as
// left by a burst of logins or TLS handshakes.
napi_value malloc_trim_(napi_env env, napi_callback_info info) {
  (void)info;
  napi_value result;
  bool released = false;
#ifdef __GLIBC__
  released = malloc_trim(0) == 1;
#endif
  napi_get_boolean(env, released, &result);
  return result;
}
