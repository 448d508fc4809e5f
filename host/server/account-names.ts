// Whether a new account name is free: not registered (case-insensitive, NFKC)
// and not a look-alike of a registered one (UTS #39 skeleton, stored per account:
// host/db/users.ts). Called by `register` before the password is hashed, so a
// refused name costs no argon2 time; UsersRepo.create() checks again inside its
// insert transaction, which is what closes the race between two registrations.
import type { Store } from '../db/store.js';
import { ProtocolError } from '../protocol/errors.js';

export function requireFreeUsername(store: Store, username: string): void {
  if (store.users.findByName(username)) throw new ProtocolError('USERNAME_TAKEN');
  // The existing name is not echoed: the caller learns only that the name is not available.
  if (store.users.findConfusable(username)) {
    throw new ProtocolError('USERNAME_TAKEN', 'that user name looks like one that is already registered (Unicode confusables)');
  }
}
