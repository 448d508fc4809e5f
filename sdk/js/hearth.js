// Hearth guest SDK for JavaScript (host API v1): evaluated before plugin.js
// inside the guest's QuickJS engine (sdk/js/engine.c). Same shape as the
// AssemblyScript SDK (sdk/assembly/index.ts): a plugin declares its hooks as
// top-level `function on_chat(ev) { ... }` and answers with allow(), block(),
// rewrite(), reply() or done(), or simply returns the answer object. Every
// function is on `Hearth` (`const { reply, chatSend } = Hearth;`).
//
// The engine has no clock (Date.now() is 0: use the events' `ts`), no
// randomness source worth the name, no files, no network, no timers, no
// Promises that resolve later: a hook runs to completion and returns.
(function () {
  'use strict';
  const N = globalThis.__hearth;
  delete globalThis.__hearth;
  // Indices of the host functions in engine.c's HOST_FNS.
  const FN = { state_read: 0, chat_send: 1, kv_get: 2, kv_set: 3, kv_delete: 4, moderate: 5, log: 6, config_get: 7 };
  let answered = false;
  let inputCache = null;

  function call(name, request) {
    const reply = N.call(FN[name], JSON.stringify(request));
    try {
      return JSON.parse(reply);
    } catch (e) {
      return { error: 'BAD_REPLY', message: reply };
    }
  }
  function outputString(s) {
    answered = true;
    N.output(String(s));
  }
  function output(value) {
    outputString(JSON.stringify(value));
  }
  function inputString() {
    if (inputCache === null) inputCache = N.input();
    return inputCache;
  }
  function inputJSON() {
    try {
      return JSON.parse(inputString());
    } catch (e) {
      return null;
    }
  }
  function inputF32() {
    return new Float32Array(N.inputBytes());
  }
  function outputF32(samples) {
    answered = true;
    N.outputBytes(samples.buffer, samples.byteOffset, samples.byteLength);
  }
  function isError(reply) {
    return reply === null || typeof reply !== 'object' || 'error' in reply;
  }
  function kvGet(key) {
    const r = call('kv_get', { key: String(key) });
    return isError(r) || r.value === undefined ? null : r.value;
  }
  function kvGetInt(key, fallback) {
    const s = kvGet(key);
    const n = s === null ? NaN : parseInt(s, 10);
    return Number.isFinite(n) ? n : fallback === undefined ? 0 : fallback;
  }

  const Hearth = {
    // hook input / output
    inputString,
    inputJSON,
    inputF32,
    outputString,
    output,
    outputF32,
    chatEvent: inputJSON,
    commandEvent: inputJSON,
    presenceEvent: inputJSON,
    timerEvent: inputJSON,
    // answers
    allow: () => output({ action: 'allow' }),
    block: (reason) => output({ action: 'block', reason: String(reason) }),
    rewrite: (text) => output({ action: 'rewrite', text: String(text) }),
    reply: (text) => output({ reply: String(text) }),
    done: () => outputString('{}'),
    // host API v1 (each behind its capability; a denied call returns {error: "CAPABILITY_DENIED", ...})
    stateRead: () => call('state_read', {}),
    readState: () => {
      const s = call('state_read', {});
      return isError(s) ? null : s;
    },
    chatSend: (text, channelId) => call('chat_send', channelId === undefined || channelId < 0 ? { text: String(text) } : { text: String(text), channelId }),
    kvGetRaw: (key) => call('kv_get', { key: String(key) }),
    kvGet,
    kvSet: (key, value) => call('kv_set', { key: String(key), value: String(value) }),
    kvDelete: (key) => call('kv_delete', { key: String(key) }),
    kvGetInt,
    kvSetInt: (key, value) => !isError(call('kv_set', { key: String(key), value: String(Math.trunc(value)) })),
    moderate: (action, userId, reason) => call('moderate', { action, userId, reason: reason === undefined ? '' : String(reason) }),
    log: (level, msg) => call('log', { level, msg: String(msg) }),
    configRaw: () => call('config_get', {}),
    config: () => {
      const r = call('config_get', {});
      return isError(r) ? null : r.config;
    },
    rawCall: (fn, request) => call(fn, request),
    isError,
    FRAME_SAMPLES: 960,
  };
  Object.freeze(Hearth);
  Object.defineProperty(globalThis, 'Hearth', { value: Hearth, enumerable: false, writable: false, configurable: false });

  // Called once at load (engine.c hearth_warmup): the paths a hook takes, on
  // made-up data, so that their code is compiled before the first real call.
  Object.defineProperty(globalThis, '__hearth_warmup', {
    enumerable: false,
    value: function () {
      const ev = JSON.parse('{"command":"hello","args":"a b","user":{"id":1,"name":"warm"},"channelId":1,"ts":0,"text":"Hello there"}');
      let s = `${ev.user.name}: ${ev.text.toLowerCase().includes('there')} ${ev.args.split(' ').filter(Boolean).sort().join(',')}`;
      s += JSON.stringify({ reply: s, n: [1, 2, 3].map((x) => x * 2), o: Object.keys(ev) });
      /h(e)llo/i.test(s);
      new Float32Array(960).fill(0.25).map((x) => Math.tanh(x * 2));
      return s.length;
    },
  });

  // Called by every hook export (engine.c): runs the plugin's function of
  // that name with the decoded input, and answers with what it returned if it
  // did not answer itself.
  Object.defineProperty(globalThis, '__hearth_dispatch', {
    enumerable: false,
    value: function (name) {
      answered = false;
      inputCache = null;
      const fn = globalThis[name];
      if (typeof fn !== 'function') throw new Error(`plugin.js has no function ${name}`);
      const arg = name === 'on_audio_raw' ? inputF32() : inputJSON();
      const r = fn(arg);
      if (answered) return;
      if (r instanceof Float32Array) outputF32(r);
      else if (r !== undefined && r !== null && typeof r === 'object') output(r);
      else if (typeof r === 'string' && name === 'on_command') output({ reply: r });
      else if (name === 'on_chat') output({ action: 'allow' });
      else outputString('{}');
    },
  });
})();
