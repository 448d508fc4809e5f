// Hook inputs as classes (docs/PLUGINS.md, section 4). Times are milliseconds
// since the Unix epoch, passed in by the host (guests have no clock).
import { Kind, Value } from "./json";

export class UserRef {
  constructor(
    public id: i32,
    public name: string,
  ) {}
}

function userOf(v: Value): UserRef {
  const u = v.get("user");
  if (u === null || u.kind != Kind.Object) return new UserRef(-1, "");
  return new UserRef(<i32>u.getNumber("id", -1), u.getString("name"));
}

/** on_chat: {"channelId","user","text","ts"} */
export class ChatEvent {
  constructor(
    public channelId: i32,
    public user: UserRef,
    public text: string,
    public ts: f64,
  ) {}
  static from(v: Value): ChatEvent {
    return new ChatEvent(<i32>v.getNumber("channelId", -1), userOf(v), v.getString("text"), v.getNumber("ts"));
  }
}

/** on_command: {"command","args","user","channelId","ts"}; args is trimmed by the host. */
export class CommandEvent {
  constructor(
    public command: string,
    public args: string,
    public user: UserRef,
    public channelId: i32,
    public ts: f64,
  ) {}
  static from(v: Value): CommandEvent {
    return new CommandEvent(v.getString("command"), v.getString("args").trim(), userOf(v), <i32>v.getNumber("channelId", -1), v.getNumber("ts"));
  }
}

/** on_join / on_leave: {"user","channelId","ts"} */
export class PresenceEvent {
  constructor(
    public user: UserRef,
    public channelId: i32,
    public ts: f64,
  ) {}
  static from(v: Value): PresenceEvent {
    return new PresenceEvent(userOf(v), <i32>v.getNumber("channelId", -1), v.getNumber("ts"));
  }
}

/** on_timer: {"tick","now"} */
export class TimerEvent {
  constructor(
    public tick: f64,
    public now: f64,
  ) {}
  static from(v: Value): TimerEvent {
    return new TimerEvent(v.getNumber("tick"), v.getNumber("now"));
  }
}
