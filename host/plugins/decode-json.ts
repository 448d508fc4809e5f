// A hook's JSON answer: parsed and checked against the hook's schema; an
// Error (never an exception) for anything else, which the runtime turns
// into a bad_output fault.
import type { z } from 'zod';

const decoder = new TextDecoder();

export function decodeJson<S extends z.ZodType>(bytes: Uint8Array, schema: S, emptyOk: boolean): z.infer<S> | Error {
  if (bytes.length === 0) {
    if (emptyOk) return schema.safeParse({}).success ? (schema.parse({}) as z.infer<S>) : new Error('empty output');
    return new Error('empty output');
  }
  let raw: unknown;
  try {
    raw = JSON.parse(decoder.decode(bytes));
  } catch (err) {
    return new Error(`not JSON (${(err as Error).message})`);
  }
  const r = schema.safeParse(raw);
  if (!r.success) return new Error(r.error.issues.map((i) => `${i.path.join('.') || '(root)'}: ${i.message}`).join('; '));
  return r.data as z.infer<S>;
}
