// Builds the desktop client's page: esbuild bundles host/client/ui/page/main.ts
// (browser TypeScript, no framework) into dist/ui/app.js and copies index.html
// and app.css beside it. Nothing is fetched at run time: no CDN.
//   node scripts/build-ui.mjs            minified bundle + source map
//   node scripts/build-ui.mjs --watch    rebuild on change (development)
import { build, context } from 'esbuild';
import { copyFileSync, mkdirSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const page = join(root, 'host/client/ui/page');
const out = join(root, 'dist/ui');

const options = {
  entryPoints: [join(page, 'main.ts')],
  outfile: join(out, 'app.js'),
  bundle: true,
  format: 'iife',
  platform: 'browser',
  target: ['chrome110', 'firefox115', 'safari16'],
  // HEARTH_UI_DEBUG=1: readable names (profiling the page).
  minify: !process.env.HEARTH_UI_DEBUG,
  sourcemap: true,
  legalComments: 'none',
  logLevel: 'warning',
  // The page must never pull in Node code: fail the build if an import reaches it.
  external: [],
  plugins: [
    {
      name: 'no-node',
      setup(b) {
        b.onResolve({ filter: /^(node:|zod$|ws$)/ }, (a) => ({ errors: [{ text: `the page may not import ${a.path} (from ${a.importer})` }] }));
      },
    },
  ],
};

function copyStatic() {
  mkdirSync(out, { recursive: true });
  for (const f of ['index.html', 'app.css']) copyFileSync(join(page, f), join(out, f));
}

const t0 = performance.now();
copyStatic();
if (process.argv.includes('--watch')) {
  const ctx = await context({ ...options, plugins: [...options.plugins, { name: 'copy', setup: (b) => b.onEnd(copyStatic) }] });
  await ctx.watch();
  console.log('build-ui: watching host/client/ui/page');
} else {
  const r = await build({ ...options, metafile: true });
  const bytes = r.metafile.outputs[Object.keys(r.metafile.outputs).find((k) => k.endsWith('app.js'))].bytes;
  console.log(`build-ui: dist/ui/app.js ${(bytes / 1024).toFixed(1)} KiB in ${Math.round(performance.now() - t0)} ms`);
}
