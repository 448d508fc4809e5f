/*
 * Hearth JavaScript guests: QuickJS embedded in a Wasm module (host API v1).
 *
 * `hearth plugin build` compiles QuickJS (sources from the npm package qjsc)
 * and this file for wasm32-wasi once, then per plugin links a generated C file
 * that holds the SDK prelude (hearth.js), the plugin's plugin.js and one export
 * per hook of the manifest, each calling hearth_js_hook(). wizer then runs
 * hearth_js_init at build time (engine created, prelude and plugin evaluated)
 * and snapshots the memory: the guest starts with the plugin already loaded.
 *
 * WASI is not given to guests: wasi-stubs.c answers libc's few WASI calls
 * inside the module, so the only imports left are Extism's.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include "quickjs.h"

#define IMPORT(m, n) __attribute__((import_module(m), import_name(n)))
IMPORT("extism:host/env", "input_length") uint64_t extism_input_length(void);
IMPORT("extism:host/env", "input_load_u8") uint8_t extism_input_load_u8(uint64_t);
IMPORT("extism:host/env", "input_load_u64") uint64_t extism_input_load_u64(uint64_t);
IMPORT("extism:host/env", "length") uint64_t extism_length(uint64_t);
IMPORT("extism:host/env", "alloc") uint64_t extism_alloc(uint64_t);
IMPORT("extism:host/env", "free") void extism_free(uint64_t);
IMPORT("extism:host/env", "output_set") void extism_output_set(uint64_t, uint64_t);
IMPORT("extism:host/env", "error_set") void extism_error_set(uint64_t);
IMPORT("extism:host/env", "store_u8") void extism_store_u8(uint64_t, uint8_t);
IMPORT("extism:host/env", "load_u8") uint8_t extism_load_u8(uint64_t);
IMPORT("extism:host/env", "store_u64") void extism_store_u64(uint64_t, uint64_t);
IMPORT("extism:host/env", "load_u64") uint64_t extism_load_u64(uint64_t);
IMPORT("extism:host/user", "hearth_state_read") uint64_t hearth_state_read(uint64_t);
IMPORT("extism:host/user", "hearth_chat_send") uint64_t hearth_chat_send(uint64_t);
IMPORT("extism:host/user", "hearth_kv_get") uint64_t hearth_kv_get(uint64_t);
IMPORT("extism:host/user", "hearth_kv_set") uint64_t hearth_kv_set(uint64_t);
IMPORT("extism:host/user", "hearth_kv_delete") uint64_t hearth_kv_delete(uint64_t);
IMPORT("extism:host/user", "hearth_moderate") uint64_t hearth_moderate(uint64_t);
IMPORT("extism:host/user", "hearth_log") uint64_t hearth_log(uint64_t);
IMPORT("extism:host/user", "hearth_config_get") uint64_t hearth_config_get(uint64_t);

/* Generated per plugin (hearth plugin build). */
extern const char hearth_js_prelude[];
extern const uint32_t hearth_js_prelude_len;
extern const char hearth_js_source[];
extern const uint32_t hearth_js_source_len;

extern void __wasm_call_ctors(void);

static JSRuntime *rt;
static JSContext *ctx;
static int ctors_done;
static char error_text[4096];

static uint64_t block_from(const uint8_t *src, size_t n) {
  uint64_t offs = extism_alloc(n);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v;
    memcpy(&v, src + i, 8);
    extism_store_u64(offs + i, v);
  }
  for (; i < n; i++) extism_store_u8(offs + i, src[i]);
  return offs;
}

static JSValue block_to_string(JSContext *c, uint64_t offs) {
  if (offs == 0) return JS_NewString(c, "");
  size_t n = (size_t)extism_length(offs);
  char *buf = malloc(n + 1);
  if (!buf) return JS_ThrowOutOfMemory(c);
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = extism_load_u64(offs + i);
    memcpy(buf + i, &v, 8);
  }
  for (; i < n; i++) buf[i] = (char)extism_load_u8(offs + i);
  extism_free(offs);
  JSValue s = JS_NewStringLen(c, buf, n);
  free(buf);
  return s;
}

static uint8_t *read_input(size_t *len) {
  size_t n = (size_t)extism_input_length();
  uint8_t *buf = malloc(n + 1);
  if (!buf) return 0;
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {
    uint64_t v = extism_input_load_u64(i);
    memcpy(buf + i, &v, 8);
  }
  for (; i < n; i++) buf[i] = extism_input_load_u8(i);
  buf[n] = 0;
  *len = n;
  return buf;
}

/* __hearth.input(): the call's input as a string. */
static JSValue js_input(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
  size_t n;
  uint8_t *buf = read_input(&n);
  if (!buf) return JS_ThrowOutOfMemory(c);
  JSValue s = JS_NewStringLen(c, (const char *)buf, n);
  free(buf);
  return s;
}

/* __hearth.inputBytes(): the call's input as an ArrayBuffer (audio frames). */
static JSValue js_input_bytes(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
  size_t n;
  uint8_t *buf = read_input(&n);
  if (!buf) return JS_ThrowOutOfMemory(c);
  JSValue ab = JS_NewArrayBufferCopy(c, buf, n);
  free(buf);
  return ab;
}

/* __hearth.output(string) */
static JSValue js_output(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
  size_t n;
  const char *s = JS_ToCStringLen(c, &n, argv[0]);
  if (!s) return JS_EXCEPTION;
  extism_output_set(block_from((const uint8_t *)s, n), n);
  JS_FreeCString(c, s);
  return JS_UNDEFINED;
}

/* __hearth.outputBytes(arrayBuffer, byteOffset, byteLength) */
static JSValue js_output_bytes(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
  size_t size;
  uint8_t *p = JS_GetArrayBuffer(c, &size, argv[0]);
  if (!p) return JS_EXCEPTION;
  uint32_t off = 0, len = 0;
  JS_ToUint32(c, &off, argv[1]);
  JS_ToUint32(c, &len, argv[2]);
  if ((size_t)off + len > size) return JS_ThrowRangeError(c, "outputBytes: out of range");
  extism_output_set(block_from(p + off, len), len);
  return JS_UNDEFINED;
}

/* __hearth.call(index, requestJson) -> reply JSON text; index into HOST_FNS. */
static uint64_t (*const HOST_FNS[])(uint64_t) = {
    hearth_state_read, hearth_chat_send, hearth_kv_get, hearth_kv_set,
    hearth_kv_delete, hearth_moderate, hearth_log, hearth_config_get,
};
static JSValue js_call(JSContext *c, JSValueConst this_val, int argc, JSValueConst *argv) {
  uint32_t index;
  if (JS_ToUint32(c, &index, argv[0]) || index >= sizeof HOST_FNS / sizeof HOST_FNS[0]) return JS_ThrowRangeError(c, "unknown host function");
  size_t n;
  const char *req = JS_ToCStringLen(c, &n, argv[1]);
  if (!req) return JS_EXCEPTION;
  uint64_t offs = block_from((const uint8_t *)req, n);
  JS_FreeCString(c, req);
  return block_to_string(c, HOST_FNS[index](offs));
}

static const JSCFunctionListEntry NATIVE[] = {
    JS_CFUNC_DEF("input", 0, js_input),
    JS_CFUNC_DEF("inputBytes", 0, js_input_bytes),
    JS_CFUNC_DEF("output", 1, js_output),
    JS_CFUNC_DEF("outputBytes", 3, js_output_bytes),
    JS_CFUNC_DEF("call", 2, js_call),
};

/* The pending exception as "message\nstack" in error_text. */
static void take_exception(void) {
  JSValue ex = JS_GetException(ctx);
  const char *msg = JS_ToCString(ctx, ex);
  size_t at = 0;
  if (msg) {
    size_t n = strlen(msg);
    if (n > sizeof error_text - 1) n = sizeof error_text - 1;
    memcpy(error_text, msg, n);
    at = n;
    JS_FreeCString(ctx, msg);
  }
  if (JS_IsError(ctx, ex)) {
    JSValue stack = JS_GetPropertyStr(ctx, ex, "stack");
    const char *st = JS_IsUndefined(stack) ? 0 : JS_ToCString(ctx, stack);
    if (st) {
      size_t n = strlen(st);
      if (at + 1 + n > sizeof error_text - 1) n = sizeof error_text - 2 - at;
      error_text[at++] = '\n';
      memcpy(error_text + at, st, n);
      at += n;
      JS_FreeCString(ctx, st);
    }
    JS_FreeValue(ctx, stack);
  }
  error_text[at] = 0;
  JS_FreeValue(ctx, ex);
}

static int eval(const char *src, size_t len, const char *file) {
  JSValue r = JS_Eval(ctx, src, len, file, JS_EVAL_TYPE_GLOBAL);
  if (JS_IsException(r)) {
    take_exception();
    return -1;
  }
  JS_FreeValue(ctx, r);
  return 0;
}

/* Creates the engine and evaluates the prelude and the plugin; 0 or -1 (error_text). */
static int load(void) {
  if (!ctors_done) {
    ctors_done = 1;
    __wasm_call_ctors();
  }
  rt = JS_NewRuntime();
  ctx = rt ? JS_NewContext(rt) : 0;
  if (!ctx) {
    strcpy(error_text, "out of memory creating the JavaScript engine");
    return -1;
  }
  JSValue global = JS_GetGlobalObject(ctx);
  JSValue native = JS_NewObject(ctx);
  JS_SetPropertyFunctionList(ctx, native, NATIVE, sizeof NATIVE / sizeof NATIVE[0]);
  JS_SetPropertyStr(ctx, global, "__hearth", native);
  JS_FreeValue(ctx, global);
  if (eval(hearth_js_prelude, hearth_js_prelude_len, "hearth.js")) return -1;
  return eval(hearth_js_source, hearth_js_source_len, "plugin.js");
}

/* wizer's initialisation function: runs at build time; a failure traps the build. */
__attribute__((export_name("hearth_js_init"))) void hearth_js_init(void) {
  if (!ctx && load()) __builtin_trap();
}

/* The build's check (run in Node before wizer): 0, or -1 with hearth_js_error(). */
__attribute__((export_name("hearth_js_try_init"))) int32_t hearth_js_try_init(void) { return ctx ? 0 : load(); }
__attribute__((export_name("hearth_js_error"))) const char *hearth_js_error(void) { return error_text; }

/*
 * Called once by the host at load, before the first hook (sandbox-worker.ts):
 * runs the prelude's __hearth_warmup, which exercises the interpreter paths
 * every hook takes (JSON, strings, arrays, closures), so V8 compiles them now
 * rather than during the first real call. Touches no host state.
 */
__attribute__((export_name("hearth_warmup"))) int32_t hearth_warmup(void) {
  if (!ctx && load()) return 1;
  JSValue global = JS_GetGlobalObject(ctx);
  JSValue fn = JS_GetPropertyStr(ctx, global, "__hearth_warmup");
  JSValue r = JS_Call(ctx, fn, global, 0, 0);
  int32_t rc = JS_IsException(r) ? 1 : 0;
  if (rc) JS_FreeValue(ctx, JS_GetException(ctx));
  JS_FreeValue(ctx, r);
  JS_FreeValue(ctx, fn);
  JS_FreeValue(ctx, global);
  return rc;
}

/* Every hook export calls this: the prelude's __hearth_dispatch(name) does the work in JS. */
int32_t hearth_js_hook(const char *name) {
  if (!ctx && load()) {
    size_t n = strlen(error_text);
    extism_error_set(block_from((const uint8_t *)error_text, n));
    return 1;
  }
  JSValue global = JS_GetGlobalObject(ctx);
  JSValue dispatch = JS_GetPropertyStr(ctx, global, "__hearth_dispatch");
  JSValue arg = JS_NewString(ctx, name);
  JSValue r = JS_Call(ctx, dispatch, global, 1, &arg);
  int32_t rc = 0;
  if (JS_IsException(r)) {
    take_exception();
    size_t n = strlen(error_text);
    extism_error_set(block_from((const uint8_t *)error_text, n));
    rc = 1;
  }
  JS_FreeValue(ctx, r);
  JS_FreeValue(ctx, arg);
  JS_FreeValue(ctx, dispatch);
  JS_FreeValue(ctx, global);
  return rc;
}
