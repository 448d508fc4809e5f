// wordfilter: chat moderation.
//   on_chat     1. flood limit: a user who sends more than floodMessages messages
//                  within floodWindowMs (by the events' ts) has the extra
//                  messages blocked;
//               2. word list: a message containing a configured word is masked
//                  (mode "mask": the word becomes asterisks, via the rewrite
//                  action) or blocked (mode "block");
//               3. escalation: each flood episode or filtered message is a
//                  strike against the user; at muteAfter strikes the user is
//                  muted, and kickAfter strikes later kicked (hearth_moderate,
//                  capability "moderation"; 0 disables either step). Strikes
//                  are kept in storage and forgotten after strikeWindowMs
//                  without a new one; a kick starts the count again.
//   on_join     greets the user in their channel and says how many are online.
//   on_command  /filterstats        -> "N messages filtered"
//               /filterstats NAME   -> NAME's strikes and the thresholds
//
// Config (manifests/wordfilter.json; reference in docs/PLUGINS.md):
//   words []string, mode "mask"|"block" ("rewrite" = "mask", the 1.0 name),
//   wholeWords bool, floodMessages int (0: off), floodWindowMs int,
//   muteAfter int, kickAfter int, strikeWindowMs int (0: never forget),
//   announce bool, greet bool.
//
// Storage keys: filtered, flooded, mutes, kicks (counters);
// strikes:<userId> = "<count>,<ts of the last strike>";
// name:<lowername> = "<userId>,<name>" (for /filterstats NAME).
import {
  chatEvent,
  chatSend,
  ChatEvent,
  config,
  done,
  inputJSON,
  isError,
  kvGet,
  kvGetInt,
  kvSet,
  kvSetInt,
  Kind,
  log,
  moderate,
  outputString,
  Parser,
  readState,
  reply,
  stateRead,
  allow,
  block,
  rewrite,
  commandEvent,
} from "../../sdk/assembly/index";
import { buildAutomaton, fold, mask } from "./automaton";

/** Longest text a rewrite answer may carry (host/plugins/hooks.ts ChatOutput). */
const REWRITE_MAX = 4000;

let configured = false;
let words: Array<string> = new Array<string>();
let blockMode = false;
let wholeWords = false;
let greet = true;
let announce = true;
let floodMessages: i32 = 0;
let floodWindowMs: f64 = 10000;
let muteAfter: i32 = 3;
let kickAfter: i32 = 3;
let strikeWindowMs: f64 = 3600000;

/** Recent message times per user (flood limit); kept in memory only. */
const recent = new Map<i32, Array<f64>>();
/** When each user last got a strike for flooding (one strike per flood episode). */
const floodStruck = new Map<i32, f64>();

function configure(): void {
  if (configured) return;
  configured = true;
  const cfg = config();
  if (cfg === null) return;
  const list = cfg.get("words");
  if (list !== null && list.kind == Kind.Array) {
    for (let i = 0; i < list.items.length; i++) {
      const w = list.items[i];
      if (w.kind == Kind.String && w.s.length > 0 && !words.includes(fold(w.s))) words.push(fold(w.s));
    }
  }
  buildAutomaton(words);
  blockMode = cfg.getString("mode", "mask") == "block";
  wholeWords = cfg.getBool("wholeWords", wholeWords);
  greet = cfg.getBool("greet", greet);
  announce = cfg.getBool("announce", announce);
  floodMessages = <i32>cfg.getNumber("floodMessages", floodMessages);
  floodWindowMs = cfg.getNumber("floodWindowMs", floodWindowMs);
  muteAfter = <i32>cfg.getNumber("muteAfter", muteAfter);
  kickAfter = <i32>cfg.getNumber("kickAfter", kickAfter);
  strikeWindowMs = cfg.getNumber("strikeWindowMs", strikeWindowMs);
}

// Word matching (fold, the Aho-Corasick automaton, mask): automaton.ts.

// ---- counters and strikes -------------------------------------------------------

function bump(key: string): i64 {
  const n = kvGetInt(key, 0) + 1;
  kvSetInt(key, n);
  return n;
}

/** Strikes at which the user is kicked (0: never). */
function kickAt(): i32 {
  if (kickAfter <= 0) return 0;
  return (muteAfter > 0 ? muteAfter : 0) + kickAfter;
}

function readStrikes(userId: i32, ts: f64): i32 {
  const s = kvGet("strikes:" + userId.toString());
  if (s === null) return 0;
  const comma = s.indexOf(",");
  if (comma < 0) return 0;
  const last = parseFloat(s.substring(comma + 1));
  if (strikeWindowMs > 0 && ts - last > strikeWindowMs) return 0; // forgiven
  return I32.parseInt(s.substring(0, comma));
}

function escalate(action: string, ev: ChatEvent, strikes: i32, why: string): void {
  const r = moderate(action, ev.user.id, "word filter: " + strikes.toString() + " strikes (" + why + ")");
  if (isError(r)) {
    log("warn", action + " of user " + ev.user.id.toString() + " refused by the host: " + r);
    return;
  }
  bump(action == "mute" ? "mutes" : "kicks");
  log("info", action + " user " + ev.user.id.toString() + " after " + strikes.toString() + " strikes");
  if (announce) {
    chatSend(ev.user.name + " has been " + (action == "mute" ? "muted" : "kicked") + " by the word filter after " + strikes.toString() + " strikes.", ev.channelId);
  }
}

/** Records a strike and mutes / kicks at the thresholds. */
function strike(ev: ChatEvent, why: string): void {
  const uid = ev.user.id;
  if (uid < 0) return;
  let n = readStrikes(uid, ev.ts) + 1;
  if (muteAfter > 0 && n == muteAfter) escalate("mute", ev, n, why);
  const k = kickAt();
  if (k > 0 && n >= k) {
    escalate("kick", ev, n, why);
    n = 0; // a kicked user starts over
  }
  const key = "strikes:" + uid.toString();
  kvSet(key, n.toString() + "," + (<i64>ev.ts).toString());
  kvSet("name:" + fold(ev.user.name), uid.toString() + "," + ev.user.name);
}

// ---- flood limit ------------------------------------------------------------------

/** Counts this message against the user's window; true when it is over the limit. */
function flooding(ev: ChatEvent): bool {
  if (floodMessages <= 0) return false;
  const uid = ev.user.id;
  let times: Array<f64>;
  if (recent.has(uid)) times = recent.get(uid);
  else {
    times = new Array<f64>();
    recent.set(uid, times);
  }
  // Keep the messages inside (ts - window, ts]; a message with an older ts
  // (clocks differ) simply counts in the current window.
  const from = ev.ts - floodWindowMs;
  let keep = 0;
  for (let i = 0; i < times.length; i++) {
    if (times[i] > from) times[keep++] = times[i];
  }
  times.length = keep;
  times.push(ev.ts);
  // Only the last floodMessages + 1 times matter.
  if (times.length > floodMessages + 1) times.shift();
  return times.length > floodMessages;
}

// ---- hooks --------------------------------------------------------------------

/**
 * Called once by the host at load (docs/PLUGINS.md §15): reads the config and
 * builds the automaton now (25 ms for 500 words on a busy machine), so that
 * the first message is not late because of it. Reads the config only.
 */
export function hearth_warmup(): i32 {
  configure();
  // The paths of a message that matches, on made-up data (no writes).
  const sample = '{"channelId":1,"user":{"id":-1,"name":"warm"},"text":"warm-up ' + (words.length ? words[0] : "text") + ' text","ts":0}';
  const v = Parser.parse(sample);
  if (v !== null) {
    const ev = ChatEvent.from(v);
    mask(ev.text, words, wholeWords, false);
    mask(ev.text, words, wholeWords, true);
    readStrikes(-1, ev.ts);
  }
  return 0;
}

export function on_chat(): i32 {
  configure();
  const ev = chatEvent();
  if (ev === null) {
    allow();
    return 0;
  }
  if (flooding(ev)) {
    bump("flooded");
    const uid = ev.user.id;
    // One strike per flood episode: not again until a full window has passed.
    if (!floodStruck.has(uid) || ev.ts - floodStruck.get(uid) >= floodWindowMs) {
      floodStruck.set(uid, ev.ts);
      strike(ev, "flooding");
    }
    block("flood: more than " + floodMessages.toString() + " messages in " + secondsText(floodWindowMs));
    return 0;
  }
  const masked = mask(ev.text, words, wholeWords, blockMode);
  if (masked == ev.text) {
    allow();
    return 0;
  }
  const n = bump("filtered");
  log("info", "filtered message #" + n.toString());
  strike(ev, "filtered words");
  // A rewrite carries at most REWRITE_MAX characters (the host's limit,
  // docs/PLUGINS.md §4); a longer message (the server may allow up to 20,000)
  // cannot be masked, so it is blocked rather than let through or faulted on.
  if (blockMode || masked.length > REWRITE_MAX) block(blockMode ? "message contains a filtered word" : "message contains a filtered word (too long to mask)");
  else rewrite(masked);
  return 0;
}

function secondsText(ms: f64): string {
  const s = ms / 1000;
  if (s == Math.floor(s)) return (<i64>s).toString() + (s == 1 ? " second" : " seconds");
  return s.toString() + " seconds";
}

export function on_join(): i32 {
  configure();
  const ev = inputJSON();
  if (ev === null || !greet) {
    outputString("{}");
    return 0;
  }
  const user = ev.get("user");
  const name = user === null ? "someone" : user.getString("name", "someone");
  const channelId = <i32>ev.getNumber("channelId", -1);
  let online: i32 = 0;
  const state = Parser.parse(stateRead());
  if (state !== null) {
    const users = state.get("users");
    if (users !== null && users.kind == Kind.Array) online = users.items.length;
  }
  chatSend("Welcome, " + name + "! " + online.toString() + " online.", channelId);
  outputString("{}");
  return 0;
}

export function on_command(): i32 {
  configure();
  const ev = commandEvent();
  if (ev === null || ev.command != "filterstats") {
    done();
    return 0;
  }
  if (ev.args.length == 0) {
    const current = kvGet("filtered");
    reply((current === null ? "0" : current) + " messages filtered");
    return 0;
  }
  // /filterstats NAME: an online user by name, else one who has had a strike.
  let name = ev.args;
  let uid: i32 = -1;
  const st = readState();
  if (st !== null) {
    const u = st.findUser(name);
    if (u !== null) {
      uid = u.id;
      name = u.name;
    }
  }
  if (uid < 0) {
    const stored = kvGet("name:" + fold(name)); // "<userId>,<name>"
    if (stored !== null) {
      const comma = stored.indexOf(",");
      uid = I32.parseInt(comma < 0 ? stored : stored.substring(0, comma));
      if (comma >= 0) name = stored.substring(comma + 1);
    }
  }
  const strikes = uid < 0 ? 0 : readStrikes(uid, ev.ts);
  let text = name + ": " + strikes.toString() + (strikes == 1 ? " strike" : " strikes");
  const thresholds = new Array<string>();
  if (muteAfter > 0) thresholds.push("mute at " + muteAfter.toString());
  if (kickAt() > 0) thresholds.push("kick at " + kickAt().toString());
  if (thresholds.length) text += " (" + thresholds.join(", ") + ")";
  reply(text);
  return 0;
}
