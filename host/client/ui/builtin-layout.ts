// The built-in layout: what the UI shows when no layout plugin is chosen, or
// when the chosen one faults, answers garbage or is late. A plain function of
// the LayoutInput (the same contract as a layout guest's on_layout), so it can
// never fail, and every widget has a sensible place in every state.
import type { LayoutInput, LayoutNode, LayoutTree } from './components.js';

const MODERATOR = new Set(['moderator', 'admin']);

export function builtinLayout(input: LayoutInput, notice?: string): LayoutTree {
  const narrow = input.viewport.width > 0 && input.viewport.width < 800;
  const top: LayoutNode[] = [];
  if (notice) top.push({ kind: 'text', text: notice.slice(0, 2000), style: 'notice' });
  if (input.certificatePending) top.push({ kind: 'panel', title: 'Server certificate', child: { kind: 'widget', widget: 'certificate' } });

  let main: LayoutNode;
  if (input.status === 'connected') {
    const settings: LayoutNode = {
      kind: 'tabs',
      label: 'Settings',
      tabs: [
        { label: 'Devices', child: { kind: 'widget', widget: 'devices' } },
        { label: 'Plugins', child: { kind: 'widget', widget: 'plugins' } },
        { label: 'Statistics', child: { kind: 'widget', widget: 'stats' } },
      ],
    };
    const user: LayoutNode = { kind: 'panel', title: MODERATOR.has(input.role ?? '') ? 'User (moderation)' : 'User', child: { kind: 'widget', widget: 'users' } };
    const channels: LayoutNode = { kind: 'panel', title: 'Channels', child: { kind: 'widget', widget: 'channels' } };
    const chat: LayoutNode = { kind: 'panel', title: 'Chat', child: { kind: 'widget', widget: 'chat' } };
    const side: LayoutNode = { kind: 'column', children: [{ kind: 'panel', title: 'Voice', child: { kind: 'widget', widget: 'voice' } }, user, settings] };
    main = narrow
      ? { kind: 'tabs', label: 'Main', tabs: [{ label: 'Channels', child: channels }, { label: 'Chat', child: chat }, { label: 'Me', child: side }] }
      : { kind: 'row', weights: [3, 4, 3], gap: 8, children: [channels, chat, side] };
    main = { kind: 'column', children: [{ kind: 'widget', widget: 'connection', dense: true }, main] };
  } else {
    // Not connected (yet): the connect form first, then the state of the attempt;
    // voice and devices can be set up before connecting.
    const connect: LayoutNode = { kind: 'panel', title: input.serverName ? `Connect (${input.serverName})` : 'Connect to a server', child: { kind: 'widget', widget: 'connect' } };
    const setup: LayoutNode = {
      kind: 'tabs',
      label: 'Setup',
      tabs: [
        { label: 'Devices', child: { kind: 'widget', widget: 'devices' } },
        { label: 'Voice', child: { kind: 'widget', widget: 'voice' } },
        { label: 'Plugins', child: { kind: 'widget', widget: 'plugins' } },
      ],
    };
    const status: LayoutNode = { kind: 'widget', widget: 'connection' };
    main = narrow ? { kind: 'column', children: [status, connect, setup] } : { kind: 'column', children: [status, { kind: 'row', weights: [3, 2], gap: 8, children: [connect, setup] }] };
  }
  const children: LayoutNode[] = [...top, main];
  if (input.errors > 0) children.push({ kind: 'panel', title: 'Errors', child: { kind: 'widget', widget: 'errors', dense: true } });
  return { version: 1, title: input.serverName ? `Hearth: ${input.serverName}`.slice(0, 200) : 'Hearth', root: { kind: 'column', gap: 8, children } };
}

/** The built-in tree with a notice on top (a fallback from a failed layout plugin). */
export function withNotice(tree: LayoutTree, notice: string): LayoutTree {
  const note: LayoutNode = { kind: 'text', text: notice.slice(0, 2000), style: 'notice' };
  const root = tree.root;
  if (root.kind === 'column' && root.children.length < 16) return { ...tree, root: { ...root, children: [note, ...root.children], ...(root.weights ? { weights: [1, ...root.weights] } : {}) } };
  return { ...tree, root: { kind: 'column', children: [note, root] } };
}
