// Installs only what the services need to run, in the current directory (the image's
// prod-deps stage, and test/production-image.test.ts in a temp copy of the same layout):
// the workspaces api, worker and fal-sim depend on, and their production dependencies.
//
// `npm ci --omit=dev` alone is not enough in a workspace repo: npm links every workspace
// folder it finds, dev-only ones included (the test harness, which brings testcontainers
// and playwright-core), and installs their dependencies as production ones. So the folders
// of workspaces no service depends on are removed first, and the devDependencies of those
// that stay are dropped from their manifests, leaving npm nothing dev-only to link.
// Plain node, no dependencies: it runs before anything is installed.
import { execFileSync } from 'node:child_process';
import { readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';

const SERVICES = ['@fluxq/api', '@fluxq/worker', '@fluxq/fal-sim'];

const readJson = (file) => JSON.parse(readFileSync(file, 'utf8'));
const dirs = ['apps', 'packages'].flatMap((parent) =>
  readdirSync(parent, { withFileTypes: true })
    .filter((entry) => entry.isDirectory())
    .map((entry) => join(parent, entry.name)),
);
const byName = new Map(dirs.map((dir) => [readJson(join(dir, 'package.json')).name, dir]));

const needed = new Set();
const visit = (name) => {
  if (needed.has(name) || !byName.has(name)) return;
  needed.add(name);
  for (const dep of Object.keys(readJson(join(byName.get(name), 'package.json')).dependencies ?? {}))
    visit(dep);
};
for (const name of SERVICES) {
  if (!byName.has(name)) throw new Error(`production-deps: no workspace named ${name}`);
  visit(name);
}

for (const [name, dir] of byName) {
  if (!needed.has(name)) {
    rmSync(dir, { recursive: true, force: true });
    continue;
  }
  const file = join(dir, 'package.json');
  const manifest = readJson(file);
  delete manifest.devDependencies;
  writeFileSync(file, `${JSON.stringify(manifest, null, 2)}\n`);
}
const root = readJson('package.json');
delete root.devDependencies;
writeFileSync('package.json', `${JSON.stringify(root, null, 2)}\n`);

process.stdout.write(`production-deps: installing for ${[...needed].sort().join(', ')}\n`);
execFileSync('npm', ['ci', '--omit=dev', ...process.argv.slice(2)], { stdio: 'inherit' });
