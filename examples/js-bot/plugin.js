// JS Bot: a Hearth chat bot in JavaScript (sdk/js/hearth.js; docs/PLUGINS.md §16).
//   on_join   "Welcome, NAME!" in the channel the user joined (config "greeting")
//   /hello    "Hello, NAME!"
//   /count    a counter kept in the plugin's storage: "count: N"
//   /who      who is online, from the server state
//
// Build:   npx hearth plugin build examples/js-bot   (clang + wasi-libc + QuickJS + wizer)
// Install: npx hearth plugin install examples/js-bot/manifest.json --grant-requested
const { chatSend, config, kvGetInt, kvSetInt, readState } = Hearth;

// Evaluated once, at build time (the guest is a snapshot taken after this ran):
// host functions cannot be called here, only in hooks.
const commands = {
  hello: (ev) => `Hello, ${ev.user.name}!`,
  count: () => {
    const n = kvGetInt('count', 0) + 1;
    kvSetInt('count', n);
    return `count: ${n}`;
  },
  who: () => {
    const state = readState();
    if (state === null) return 'I cannot see who is online.';
    const names = state.users.map((u) => u.name).sort();
    return `${names.length} online: ${names.join(', ')}`;
  },
};

function on_join(ev) {
  const greeting = (config() || {}).greeting || 'Welcome';
  chatSend(`${greeting}, ${ev.user.name}!`, ev.channelId);
}

// Returning a string from on_command is the same as reply(string).
function on_command(ev) {
  const handler = commands[ev.command];
  return handler ? handler(ev) : undefined;
}
