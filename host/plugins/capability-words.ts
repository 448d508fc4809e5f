// What each capability lets a plugin do, in a person's words: the client's
// plugin list (core/client-plugins.ts) and the desktop page's grant dialog
// (ui/page/widgets/plugins.ts) say it the same way. Plain data, no imports:
// the page bundles it.
export const CAPABILITY_WORDS: Readonly<Record<string, string>> = {
  'audio.intercept': 'hear and change your microphone sound before it is sent',
  'config.read': 'read its own settings',
  log: "write to Hearth's log",
  'state.read': 'see who is on the server and in which channel',
  storage: 'keep its own data on this computer',
  'chat.intercept': 'read, change or block chat messages',
  'chat.inject': 'post chat messages',
  moderation: 'kick or mute people',
  'ui.layout': "arrange Hearth's window",
};
