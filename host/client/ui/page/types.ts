// Types the page shares with the Node side: type-only imports, erased by esbuild.
export type { ClientSnapshot, UserSnapshot, SpeakerSnapshot, ClientError, ConnectionStatus } from '../../core/snapshot.js';
export type { ClientAction } from '../../core/actions.js';
export type { LayoutTree, LayoutNode, WidgetName } from '../components.js';
export type { ChannelView, ChatMessageView } from '../../../protocol/server-messages.js';
