// Raw imports of a Hearth guest. Two host modules exist:
//   "extism:host/env"  - the Extism kernel ABI (input/output, memory blocks)
//   "extism:host/user" - the Hearth host API v1 (every function takes the
//                        offset of a JSON request block and returns the
//                        offset of a JSON reply block; see docs/PLUGINS.md)
// Plugin authors normally use the wrappers in index.ts instead.

@external("extism:host/env", "input_length")
export declare function input_length(): u64;
@external("extism:host/env", "input_load_u8")
export declare function input_load_u8(offs: u64): u8;
@external("extism:host/env", "input_load_u64")
export declare function input_load_u64(offs: u64): u64;
@external("extism:host/env", "input_offset")
export declare function input_offset(): u64;
@external("extism:host/env", "length")
export declare function length(offs: u64): u64;
@external("extism:host/env", "alloc")
export declare function alloc(n: u64): u64;
@external("extism:host/env", "free")
export declare function free(offs: u64): void;
@external("extism:host/env", "output_set")
export declare function output_set(offs: u64, n: u64): void;
@external("extism:host/env", "error_set")
export declare function error_set(offs: u64): void;
@external("extism:host/env", "store_u8")
export declare function store_u8(offs: u64, v: u8): void;
@external("extism:host/env", "load_u8")
export declare function load_u8(offs: u64): u8;
@external("extism:host/env", "store_u64")
export declare function store_u64(offs: u64, v: u64): void;
@external("extism:host/env", "load_u64")
export declare function load_u64(offs: u64): u64;

// Host API v1. Each function is behind a capability (docs/PLUGINS.md); calling
// one that was not granted returns {"error":"CAPABILITY_DENIED",...}.
@external("extism:host/user", "hearth_state_read")
export declare function hearth_state_read(req: u64): u64;
@external("extism:host/user", "hearth_chat_send")
export declare function hearth_chat_send(req: u64): u64;
@external("extism:host/user", "hearth_kv_get")
export declare function hearth_kv_get(req: u64): u64;
@external("extism:host/user", "hearth_kv_set")
export declare function hearth_kv_set(req: u64): u64;
@external("extism:host/user", "hearth_kv_delete")
export declare function hearth_kv_delete(req: u64): u64;
@external("extism:host/user", "hearth_moderate")
export declare function hearth_moderate(req: u64): u64;
@external("extism:host/user", "hearth_log")
export declare function hearth_log(req: u64): u64;
@external("extism:host/user", "hearth_config_get")
export declare function hearth_config_get(req: u64): u64;
// Always allowed: records why the guest aborted, for the host's fault report.
@external("extism:host/user", "hearth_abort")
export declare function hearth_abort(req: u64): u64;
