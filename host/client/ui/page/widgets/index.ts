// The widgets named in components.ts WIDGETS, one file per part of the
// window. Each reads the newest snapshot and sends actions; none keeps a copy
// of core state. Ids are prefixed with the widget's place in the layout, so a
// layout may show a widget twice.
import type { WidgetName } from '../types.js';
import type { Widget } from './shared.js';
import { certificateW, connectionW, connectW } from './connect.js';
import { channelsW } from './channels.js';
import { chatW } from './chat.js';
import { devicesW, voiceW } from './voice.js';
import { usersW } from './users.js';
import { errorsW, pluginsW, statsW } from './plugins.js';

export { isPttKey, keyName } from './voice.js';

export const WIDGET_RENDERERS: Record<WidgetName, Widget> = {
  connect: connectW,
  certificate: certificateW,
  connection: connectionW,
  channels: channelsW,
  chat: chatW,
  voice: voiceW,
  devices: devicesW,
  users: usersW,
  plugins: pluginsW,
  errors: errorsW,
  stats: statsW,
};
