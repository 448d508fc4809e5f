// Password hashing: argon2id with OWASP's minimum parameters (19 MiB, t=2, p=1),
// run on libuv's thread pool by @node-rs/argon2 so the event loop keeps serving.
import type * as Argon2 from '@node-rs/argon2';

// Loaded at the first hash or verify, not at start-up: a server that nobody
// has logged in to yet does not carry the native module.
let argon2: Promise<typeof Argon2> | null = null;
const lib = (): Promise<typeof Argon2> => (argon2 ??= import('@node-rs/argon2'));
/** Argon2id is 2 in @node-rs/argon2's Algorithm enum (a const enum: not importable as a value from a type-only import). */
const ARGON2ID = 2 as Argon2.Algorithm;
const OPTIONS = { algorithm: ARGON2ID, memoryCost: 19456, timeCost: 2, parallelism: 1 } as const;

const hash = async (password: string, options: typeof OPTIONS): Promise<string> => (await lib()).hash(password, options);
const verify = async (stored: string, password: string): Promise<boolean> => (await lib()).verify(stored, password);

export const MIN_PASSWORD_CHARS = 8;

export function hashPassword(password: string): Promise<string> {
  return hash(password, OPTIONS);
}

// Verifying against a real hash for unknown users makes "no such user" take as
// long as "wrong password", so timing does not reveal which accounts exist.
let dummyHash: Promise<string> | null = null;

export async function verifyPassword(storedHash: string | null, password: string): Promise<boolean> {
  if (storedHash === null) {
    dummyHash ??= hash('hearth-dummy-password', OPTIONS);
    await verify(await dummyHash, password).catch(() => false);
    return false;
  }
  try {
    return await verify(storedHash, password);
  } catch {
    return false;
  }
}

export function passwordProblem(password: string): string | null {
  if ([...password].length < MIN_PASSWORD_CHARS) return `password must have at least ${MIN_PASSWORD_CHARS} characters`;
  return null;
}
