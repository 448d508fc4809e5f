// Not Linux: no sendmmsg(2). The module loads but offers nothing, so the
// voice lane (host/server/voice/native-fanout.ts) uses dgram.send.
#include <node_api.h>

NAPI_MODULE_INIT(/* napi_env env, napi_value exports */) {
  (void)env;
  return exports;
}
