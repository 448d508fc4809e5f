// hearthbot: a friendly bot for a Hearth server.
//   on_join     greets the user in the channel they joined and counts their
//               visits ("Welcome back, ann! You have joined 3 times."); records
//               when and where each user was last seen (for /seen).
//   /roll NdM   rolls N dice with M sides (N 1-100, M 2-1000), e.g. /roll 2d6.
//   /who        who is online, grouped by channel.
//   /seen NAME  whether NAME is online, or when they last joined a channel.
//
// What it keeps in storage (capability "storage": SQLite on the server, so it
// survives restarts and reloads of the plugin):
//   joins:<userId>    number of visits (see greetCooldownMs)
//   seen:<lowername>  {"name","id","ts","channelId","channel"} of the last join
//
// Config (manifests/hearthbot.json; docs/PLUGINS.md has the reference):
//   greet            bool    post a greeting on join (visits are counted either way)
//   greeting         string  first visit; placeholders {name} {channel} {count}
//   greetingBack     string  later visits; same placeholders
//   greetCooldownMs  int     a join less than this long after the user's previous
//                            join (a channel move, a quick reconnect) is not a new
//                            visit: no greeting, no count (0: every join counts)
import {
  chatSend,
  commandEvent,
  config,
  done,
  kvGet,
  kvGetInt,
  kvSet,
  kvSetInt,
  ObjectWriter,
  Parser,
  presenceEvent,
  readState,
  reply,
  Rng,
  State,
  UserInfo,
} from "../../sdk/assembly/index";

const MIN_DICE = 1;
const MAX_DICE = 100;
const MIN_SIDES = 2;
const MAX_SIDES = 1000;

let configured = false;
let greet = true;
let greeting = "Welcome, {name}! Try /roll 2d6, /who or /seen NAME.";
let greetingBack = "Welcome back, {name}! You have joined {count} times.";
let greetCooldownMs: f64 = 300000;

function configure(): void {
  if (configured) return;
  configured = true;
  const cfg = config(); // null when config.read is not granted: the defaults above apply
  if (cfg === null) return;
  greet = cfg.getBool("greet", greet);
  greeting = cfg.getString("greeting", greeting);
  greetingBack = cfg.getString("greetingBack", greetingBack);
  greetCooldownMs = cfg.getNumber("greetCooldownMs", greetCooldownMs);
}

function fill(template: string, name: string, channel: string, count: i64): string {
  return template.replaceAll("{name}", name).replaceAll("{channel}", channel).replaceAll("{count}", count.toString());
}

// ---- on_join ------------------------------------------------------------------

export function on_join(): i32 {
  configure();
  const ev = presenceEvent();
  if (ev === null || ev.user.id < 0) {
    done();
    return 0;
  }
  const name = ev.user.name;
  const st = readState();
  const channel = st === null ? "#" + ev.channelId.toString() : st.channelName(ev.channelId);

  const seenKey = "seen:" + name.toLowerCase();
  let previousTs: f64 = -1;
  const previous = kvGet(seenKey);
  if (previous !== null) {
    const v = Parser.parse(previous);
    if (v !== null) previousTs = v.getNumber("ts", -1);
  }
  kvSet(
    seenKey,
    new ObjectWriter().str("name", name).num("id", ev.user.id).num("ts", ev.ts).num("channelId", ev.channelId).str("channel", channel).done(),
  );

  // A join right after the previous one is a channel move or a quick reconnect, not a visit.
  const sameVisit = previousTs >= 0 && ev.ts >= previousTs && ev.ts - previousTs < greetCooldownMs;
  if (!sameVisit) {
    const countKey = "joins:" + ev.user.id.toString();
    const count = kvGetInt(countKey, 0) + 1;
    kvSetInt(countKey, count);
    if (greet) chatSend(fill(count == 1 ? greeting : greetingBack, name, channel, count), ev.channelId);
  }
  done();
  return 0;
}

// ---- commands -----------------------------------------------------------------

export function on_command(): i32 {
  configure();
  const ev = commandEvent();
  if (ev === null) {
    done();
    return 0;
  }
  if (ev.command == "roll") reply(roll(ev.args, ev.user.name, ev.user.id, ev.ts));
  else if (ev.command == "who") reply(who());
  else if (ev.command == "seen") reply(seen(ev.args, ev.user.name, ev.ts));
  else done();
  return 0;
}

const ROLL_USAGE = "Usage: /roll NdM, e.g. /roll 2d6 (N 1-100 dice, M 2-1000 sides).";

/** Parses a decimal number of at most 6 digits; -1 when `s` is not one. */
function smallInt(s: string): i32 {
  if (s.length == 0 || s.length > 6) return -1;
  let n: i32 = 0;
  for (let i = 0; i < s.length; i++) {
    const c = s.charCodeAt(i);
    if (c < 0x30 || c > 0x39) return -1;
    n = n * 10 + (c - 0x30);
  }
  return n;
}

/**
 * /roll NdM. Guests have no clock and no randomness of their own, so the dice
 * come from a deterministic generator (SplitMix64, sdk/assembly/rng.ts) seeded
 * with the command event's timestamp and the user's id — both passed in by the
 * host. The same (ts, user) always rolls the same numbers; different users or
 * different milliseconds roll independently. Fine for games, not for secrets.
 */
function roll(args: string, name: string, userId: i32, ts: f64): string {
  const spec = args.length == 0 ? "1d6" : args.toLowerCase();
  const d = spec.indexOf("d");
  if (d < 0 || spec.indexOf("d", d + 1) >= 0) return ROLL_USAGE;
  const dice = d == 0 ? 1 : smallInt(spec.substring(0, d));
  const sides = smallInt(spec.substring(d + 1));
  if (dice < MIN_DICE || dice > MAX_DICE || sides < MIN_SIDES || sides > MAX_SIDES) return ROLL_USAGE;
  const rng = Rng.fromEvent(ts, userId, "roll");
  let sum: i64 = 0;
  let list = "";
  for (let i = 0; i < dice; i++) {
    const r = rng.int(1, sides);
    sum += r;
    if (i > 0) list += " + ";
    list += r.toString();
  }
  const head = name + " rolls " + dice.toString() + "d" + sides.toString() + ": ";
  return dice == 1 ? head + list : head + list + " = " + sum.toString();
}

function userLabel(u: UserInfo): string {
  return u.muted ? u.name + " (muted)" : u.name;
}

/** /who: "3 online. Lobby: ann, bob (muted). Games: cy." in channel order. */
function who(): string {
  const st = readState();
  if (st === null) return "I cannot see who is online (the state.read capability was not granted).";
  const n = st.users.length;
  if (n == 0) return "Nobody is online.";
  let out = n.toString() + " online.";
  const listed = new Set<i32>();
  for (let i = 0; i < st.channels.length; i++) {
    const c = st.channels[i];
    if (listed.has(c.id)) continue;
    listed.add(c.id);
    const users = st.usersIn(c.id);
    if (users.length == 0) continue;
    out += " " + c.name + ": " + users.map<string>((u) => userLabel(u)).join(", ") + ".";
  }
  // Users in a channel the state does not list (should not happen, but say where they are).
  for (let i = 0; i < st.users.length; i++) {
    const u = st.users[i];
    if (!listed.has(u.channelId)) out += " " + st.channelName(u.channelId) + ": " + userLabel(u) + ".";
  }
  return out;
}

function plural(n: i64, unit: string): string {
  return n.toString() + " " + unit + (n == 1 ? "" : "s");
}

/** "5 minutes ago", from two host timestamps (ms). */
function ago(now: f64, then: f64): string {
  const s = <i64>Math.floor((now - then) / 1000);
  if (s < 1) return "just now";
  if (s < 60) return plural(s, "second") + " ago";
  if (s < 3600) return plural(s / 60, "minute") + " ago";
  if (s < 48 * 3600) return plural(s / 3600, "hour") + " ago";
  return plural(s / 86400, "day") + " ago";
}

/** /seen NAME */
function seen(args: string, caller: string, now: f64): string {
  const name = args.trim();
  if (name.length == 0 || name.indexOf(" ") >= 0) return "Usage: /seen NAME";
  if (name.toLowerCase() == caller.toLowerCase()) return "You are right here, " + caller + ".";
  const st: State | null = readState();
  if (st !== null) {
    const u = st.findUser(name);
    if (u !== null) return u.name + " is online now, in " + st.channelName(u.channelId) + ".";
  }
  const stored = kvGet("seen:" + name.toLowerCase());
  if (stored === null) return "I have not seen " + name + ".";
  const v = Parser.parse(stored);
  if (v === null) return "I have not seen " + name + ".";
  return v.getString("name", name) + " was last seen joining " + v.getString("channel", "a channel") + " " + ago(now, v.getNumber("ts")) + ".";
}
