/*
 * Hearth guest SDK for C (host API v1). Freestanding: no libc, no malloc.
 *
 * Build (what `hearth plugin build` runs for a C plugin):
 *   clang --target=wasm32-unknown-unknown -nostdlib -O2 -Wl,--no-entry
 *         -Wl,--strip-all -I <sdk>/c index.c <sdk>/c/hearth.c <sdk>/c/hearth_json.c -o plugin.wasm
 *
 * Two import modules exist (docs/PLUGINS.md §15 documents the kernel ABI):
 *   "extism:host/env"  the Extism kernel: the call's input, memory blocks, output.
 *                      A block is named by an *offset*, a 64-bit handle into the
 *                      kernel's own memory: it is NOT a pointer into this module's
 *                      memory. Bytes move between the two only through
 *                      load/store (hearth.c does it for you).
 *   "extism:host/user" the Hearth host API: each function takes the offset of a
 *                      JSON request block and returns the offset of a JSON reply
 *                      block ({"error":"CAPABILITY_DENIED",...} when not granted).
 *
 * Hooks are exported functions returning int32 (0 = ok, anything else is a
 * guest error that disables the plugin):
 *   HEARTH_HOOK(on_chat) { ... hearth_allow(); return 0; }
 */
#ifndef HEARTH_H
#define HEARTH_H

typedef unsigned char uint8_t;
typedef unsigned int uint32_t;
typedef int int32_t;
typedef unsigned long long uint64_t;
typedef long long int64_t;
typedef unsigned long size_t;

#define HEARTH_IMPORT(module, name) __attribute__((import_module(module), import_name(name)))
/** Declares a hook export: HEARTH_HOOK(on_command) { ... return 0; } */
#define HEARTH_HOOK(name) __attribute__((export_name(#name))) int32_t name(void)

/* ---- Extism kernel ABI ("extism:host/env"); offsets are opaque block handles ---- */
HEARTH_IMPORT("extism:host/env", "input_length") uint64_t extism_input_length(void);
HEARTH_IMPORT("extism:host/env", "input_load_u8") uint8_t extism_input_load_u8(uint64_t i);
HEARTH_IMPORT("extism:host/env", "input_load_u64") uint64_t extism_input_load_u64(uint64_t i);
HEARTH_IMPORT("extism:host/env", "input_offset") uint64_t extism_input_offset(void);
HEARTH_IMPORT("extism:host/env", "length") uint64_t extism_length(uint64_t offs);
HEARTH_IMPORT("extism:host/env", "alloc") uint64_t extism_alloc(uint64_t n);
HEARTH_IMPORT("extism:host/env", "free") void extism_free(uint64_t offs);
HEARTH_IMPORT("extism:host/env", "output_set") void extism_output_set(uint64_t offs, uint64_t n);
HEARTH_IMPORT("extism:host/env", "error_set") void extism_error_set(uint64_t offs);
HEARTH_IMPORT("extism:host/env", "store_u8") void extism_store_u8(uint64_t offs, uint8_t v);
HEARTH_IMPORT("extism:host/env", "load_u8") uint8_t extism_load_u8(uint64_t offs);
HEARTH_IMPORT("extism:host/env", "store_u64") void extism_store_u64(uint64_t offs, uint64_t v);
HEARTH_IMPORT("extism:host/env", "load_u64") uint64_t extism_load_u64(uint64_t offs);

/* ---- Hearth host API v1 ("extism:host/user"): JSON request block -> JSON reply block ---- */
HEARTH_IMPORT("extism:host/user", "hearth_state_read") uint64_t hearth_import_state_read(uint64_t req);
HEARTH_IMPORT("extism:host/user", "hearth_chat_send") uint64_t hearth_import_chat_send(uint64_t req);
HEARTH_IMPORT("extism:host/user", "hearth_kv_get") uint64_t hearth_import_kv_get(uint64_t req);
HEARTH_IMPORT("extism:host/user", "hearth_kv_set") uint64_t hearth_import_kv_set(uint64_t req);
HEARTH_IMPORT("extism:host/user", "hearth_kv_delete") uint64_t hearth_import_kv_delete(uint64_t req);
HEARTH_IMPORT("extism:host/user", "hearth_moderate") uint64_t hearth_import_moderate(uint64_t req);
HEARTH_IMPORT("extism:host/user", "hearth_log") uint64_t hearth_import_log(uint64_t req);
HEARTH_IMPORT("extism:host/user", "hearth_config_get") uint64_t hearth_import_config_get(uint64_t req);
HEARTH_IMPORT("extism:host/user", "hearth_abort") uint64_t hearth_import_abort(uint64_t req);

/* A freestanding build still needs these: clang emits calls to them for struct
 * copies and zeroing, and without a definition it would import them from "env",
 * which the host refuses. hearth.c defines them. */
void *memcpy(void *dst, const void *src, size_t n);
void *memset(void *dst, int c, size_t n);
void *memmove(void *dst, const void *src, size_t n);
int memcmp(const void *a, const void *b, size_t n);
size_t strlen(const char *s);

/* ---- blocks ---- */
/** Copies n bytes into a new kernel block; returns its offset. */
uint64_t hearth_block_from(const void *src, size_t n);
/** Copies a block into dst (at most cap - 1 bytes, NUL-terminated); returns the block's full length. */
size_t hearth_block_read(uint64_t offs, char *dst, size_t cap);

/* ---- hook input / output ---- */
/** The call's input (JSON text), at most cap - 1 bytes, NUL-terminated; returns its full length. */
size_t hearth_input(char *dst, size_t cap);
void hearth_output(const void *bytes, size_t n);
void hearth_output_str(const char *s);
/** on_chat answers */
void hearth_allow(void);
void hearth_block(const char *reason);
void hearth_rewrite(const char *text);
/** on_command answer; hearth_done() is the empty answer of every hook. */
void hearth_reply(const char *text);
void hearth_done(void);

/* ---- JSON ----
 * A reader for the host's JSON: paths are dotted keys ("user.name") with
 * numeric indices for arrays ("users.0.id"). No allocation: strings are
 * copied (unescaped, UTF-8) into the caller's buffer. */
/** Copies the string at path into out (NUL-terminated); returns its length, or -1 when absent or not a string. */
int32_t hearth_json_string(const char *json, const char *path, char *out, size_t cap);
/** The number at path, or fallback. */
double hearth_json_number(const char *json, const char *path, double fallback);
/** 1 / 0 for true / false at path, else fallback. */
int32_t hearth_json_bool(const char *json, const char *path, int32_t fallback);
/** Number of items of the array at path (-1 when absent). */
int32_t hearth_json_length(const char *json, const char *path);

/** A JSON writer over a caller's buffer: hearth_w_begin(&w, buf, cap); ... hearth_w_end(&w). */
typedef struct {
  char *buf;
  size_t cap, len;
  int32_t first;
  int32_t overflow;
} hearth_writer;
void hearth_w_begin(hearth_writer *w, char *buf, size_t cap);
void hearth_w_str(hearth_writer *w, const char *key, const char *value);
void hearth_w_num(hearth_writer *w, const char *key, double value);
void hearth_w_raw(hearth_writer *w, const char *key, const char *json);
/** Closes the object; returns buf, or 0 when it did not fit. */
const char *hearth_w_end(hearth_writer *w);
/** Formats an integer (for messages); returns out. */
char *hearth_itoa(int64_t v, char *out);

/* ---- host API wrappers: each copies the JSON reply into reply (may be 0 with cap 0) and returns its length ---- */
size_t hearth_call(uint64_t (*fn)(uint64_t), const char *request_json, char *reply, size_t cap);
size_t hearth_state_read(char *reply, size_t cap);
/** channel_id < 0: the channel the event came from (or root). */
size_t hearth_chat_send(const char *text, int32_t channel_id, char *reply, size_t cap);
/** The stored value for key into out; -1 when absent or denied. */
int32_t hearth_kv_get(const char *key, char *out, size_t cap);
/** 0 when stored, -1 when the host refused (quota, capability). */
int32_t hearth_kv_set(const char *key, const char *value);
int32_t hearth_kv_delete(const char *key);
/** action: "kick" | "mute" | "unmute". */
size_t hearth_moderate(const char *action, int32_t user_id, const char *reason, char *reply, size_t cap);
/** level: "debug" | "info" | "warn" | "error". */
void hearth_log(const char *level, const char *msg);
/** The effective config as {"config":{...}}. */
size_t hearth_config(char *reply, size_t cap);
/** Exported by hearth.c; the host calls it once at load to warm the module up (no input, no host calls). */
int32_t hearth_warmup(void);
/** Reports why the guest gives up, then traps (the host records the message in its fault report). */
__attribute__((noreturn)) void hearth_abort(const char *message);

#endif
