// Everything the server keeps on disk, behind one object.
import { join } from 'node:path';
import type { Logger } from '../log/logger.js';
import { openDatabase, type Db } from './database.js';
import { UsersRepo } from './users.js';
import { ChannelsRepo } from './channels.js';
import { BansRepo } from './bans.js';
import { ChatRepo } from './chat.js';
import { InvitesRepo } from './invites.js';
import { SettingsRepo } from './settings.js';
import { PluginsRepo } from './plugins.js';
import { AddressesRepo } from './addresses.js';

/** Settings key: the Unicode version the stored name skeletons were computed with. */
const CONFUSABLES_SETTING = 'confusables_unicode_version';

export class Store {
  readonly users: UsersRepo;
  readonly channels: ChannelsRepo;
  readonly bans: BansRepo;
  readonly chat: ChatRepo;
  readonly invites: InvitesRepo;
  readonly settings: SettingsRepo;
  readonly plugins: PluginsRepo;
  readonly addresses: AddressesRepo;

  private constructor(readonly db: Db) {
    this.users = new UsersRepo(db);
    this.channels = new ChannelsRepo(db);
    this.bans = new BansRepo(db);
    this.chat = new ChatRepo(db);
    this.invites = new InvitesRepo(db);
    this.settings = new SettingsRepo(db);
    this.plugins = new PluginsRepo(db);
    this.addresses = new AddressesRepo(db);
  }

  static open(dataDir: string, log: Logger): Store {
    const store = new Store(openDatabase(join(dataDir, 'hearth.db'), log));
    store.refreshNameKeys(log);
    return store;
  }

  /** Keeps the accounts' look-alike keys in step with the confusables data (db/users.ts). */
  private refreshNameKeys(log: Logger): void {
    const before = this.settings.get(CONFUSABLES_SETTING);
    const { updated, version } = this.users.refreshNameKeys(before);
    if (before !== version) this.settings.set(CONFUSABLES_SETTING, version);
    if (updated > 0) log.info({ component: 'db', accounts: updated, unicode: version }, 'account look-alike keys computed');
  }

  /** Runs `fn` in one SQLite transaction; a throw rolls everything back. */
  transaction<T>(fn: () => T): T {
    return this.db.transaction(fn)();
  }

  close(): void {
    if (this.db.open) this.db.close();
  }
}
