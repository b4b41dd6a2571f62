// Bundle main.js with esbuild into the Python package and write the licences of every bundled npm package.
// Run: npm ci && npm run build   (from web/opendata-map; Node.js 18+)
import * as esbuild from 'esbuild';
import fs from 'node:fs';
import path from 'node:path';

const out = '../../pipeline/outputs/web/opendata-map.js';
const result = await esbuild.build({
  entryPoints: ['main.js'], bundle: true, minify: true, format: 'iife', target: 'es2020',
  legalComments: 'none', metafile: true, outfile: out, logLevel: 'info',
});
const packages = new Set();
for (const input of Object.keys(result.metafile.inputs)) {
  const m = input.match(/node_modules\/((?:@[^/]+\/)?[^/]+)\//);
  if (m) packages.add(m[1]);
}
const parts = ['Third-party software bundled in opendata-map.js (built by web/opendata-map/build.mjs).', ''];
for (const name of [...packages].sort()) {
  const dir = path.join('node_modules', name);
  const pkg = JSON.parse(fs.readFileSync(path.join(dir, 'package.json'), 'utf8'));
  const licenceFile = fs.readdirSync(dir).find((f) => /^(licen[cs]e|copying)/i.test(f));
  parts.push('='.repeat(78), `${name} ${pkg.version} — ${pkg.license || 'see below'}`, '='.repeat(78));
  parts.push(licenceFile ? fs.readFileSync(path.join(dir, licenceFile), 'utf8').trim() : `(no licence file; package.json says ${pkg.license})`, '');
}
fs.writeFileSync('../../pipeline/outputs/web/opendata-map.LICENSES.txt', parts.join('\n') + '\n');
console.log(`bundled packages: ${[...packages].sort().join(', ')}`);
