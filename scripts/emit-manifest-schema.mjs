#!/usr/bin/env node
// Writes sdk/manifest.schema.json from the zod schema in host/plugins/manifest.ts
// (run after tsc: it imports the compiled module). test/plugins/manifest.test.ts
// fails when the committed file is out of date.
import { writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const { manifestJsonSchema } = await import(join(root, 'dist', 'host', 'plugins', 'manifest.js'));
const out = join(root, 'sdk', 'manifest.schema.json');
writeFileSync(out, JSON.stringify(manifestJsonSchema(), null, 2) + '\n');
process.stdout.write(`emit-manifest-schema: wrote ${out}\n`);
