// The server state a plugin with the "state.read" capability sees
// (hearth_state_read): {"channels":[{"id","name","parentId"}],
// "users":[{"id","name","channelId","muted"?}]}, parsed into classes.
import { Kind, Parser, Value } from "./json";

export class ChannelInfo {
  constructor(
    public id: i32,
    public name: string,
    /** -1 for the root channel. */
    public parentId: i32,
  ) {}
}

export class UserInfo {
  constructor(
    public id: i32,
    public name: string,
    public channelId: i32,
    public muted: bool,
  ) {}
}

export class State {
  channels: Array<ChannelInfo> = new Array<ChannelInfo>();
  users: Array<UserInfo> = new Array<UserInfo>();

  channel(id: i32): ChannelInfo | null {
    for (let i = 0; i < this.channels.length; i++) {
      const c = unchecked(this.channels[i]);
      if (c.id == id) return c;
    }
    return null;
  }

  /** The channel's name, or "#<id>" when it is not in the state. */
  channelName(id: i32): string {
    const c = this.channel(id);
    return c === null ? "#" + id.toString() : c.name;
  }

  /** Users in one channel, in the order the host listed them. */
  usersIn(channelId: i32): Array<UserInfo> {
    const out = new Array<UserInfo>();
    for (let i = 0; i < this.users.length; i++) {
      const u = unchecked(this.users[i]);
      if (u.channelId == channelId) out.push(u);
    }
    return out;
  }

  /** An online user by name (case-insensitive), or null. */
  findUser(name: string): UserInfo | null {
    const want = name.toLowerCase();
    for (let i = 0; i < this.users.length; i++) {
      const u = unchecked(this.users[i]);
      if (u.name.toLowerCase() == want) return u;
    }
    return null;
  }
}

function int(v: Value | null, fallback: i32): i32 {
  if (v === null || v.kind != Kind.Number) return fallback;
  return <i32>v.n;
}

/** Parses a hearth_state_read reply; null when it is an error (e.g. CAPABILITY_DENIED) or malformed. */
export function parseState(json: string): State | null {
  const v = Parser.parse(json);
  if (v === null || v.kind != Kind.Object || v.get("error") !== null) return null;
  const st = new State();
  const channels = v.get("channels");
  if (channels !== null && channels.kind == Kind.Array) {
    for (let i = 0; i < channels.items.length; i++) {
      const c = channels.items[i];
      if (c.kind != Kind.Object) continue;
      st.channels.push(new ChannelInfo(int(c.get("id"), -1), c.getString("name"), int(c.get("parentId"), -1)));
    }
  }
  const users = v.get("users");
  if (users !== null && users.kind == Kind.Array) {
    for (let i = 0; i < users.items.length; i++) {
      const u = users.items[i];
      if (u.kind != Kind.Object) continue;
      st.users.push(new UserInfo(int(u.get("id"), -1), u.getString("name"), int(u.get("channelId"), -1), u.getBool("muted", false)));
    }
  }
  return st;
}
