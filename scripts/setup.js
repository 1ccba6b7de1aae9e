'use strict';

// Prepares a fresh clone for `npm test`, `npm run demo` and `npm run bench`: installs the
// npm dev dependencies when they are missing and builds the release addon when a Rust
// source is newer than the built binary. Only Rust (cargo) and Node.js 20+ are needed.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');
const npm = process.platform === 'win32' ? 'npm.cmd' : 'npm';

function run(command, args) {
  console.error(`setup: ${command} ${args.join(' ')}`);
  const result = spawnSync(command, args, { cwd: root, stdio: 'inherit' });
  if (result.error) {
    console.error(`setup: cannot run ${command}: ${result.error.message}`);
    process.exit(1);
  }
  if (result.status !== 0) {
    console.error(`setup: ${command} ${args.join(' ')} failed with exit status ${result.status}`);
    process.exit(result.status ?? 1);
  }
}

function modified(file) {
  try {
    return fs.statSync(file).mtimeMs;
  } catch {
    return 0;
  }
}

// Returns the newest modification time among the files that go into the addon.
function newestSource() {
  let newest = Math.max(
    modified(path.join(root, 'Cargo.toml')),
    modified(path.join(root, 'Cargo.lock')),
    modified(path.join(root, 'build.rs')),
  );
  const walk = (directory) => {
    for (const entry of fs.readdirSync(directory, { withFileTypes: true })) {
      const full = path.join(directory, entry.name);
      if (entry.isDirectory()) walk(full);
      else newest = Math.max(newest, modified(full));
    }
  };
  walk(path.join(root, 'src'));
  return newest;
}

function installPackages() {
  const marker = path.join(root, 'node_modules', '.package-lock.json');
  const lock = path.join(root, 'package-lock.json');
  if (modified(marker) >= modified(lock) && modified(marker) > 0) return;
  run(npm, fs.existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
}

function buildAddon() {
  const binaries = fs.readdirSync(root).filter((name) => name.endsWith('.node'));
  const built = Math.min(
    ...binaries.map((name) => modified(path.join(root, name))),
    modified(path.join(root, 'binding.js')),
  );
  if (binaries.length > 0 && built >= newestSource()) return;
  // Runs package.json's scripts.build, so that this script and `npm run build` cannot
  // build the addon in different ways.
  run(npm, ['run', 'build']);
}

installPackages();
buildAddon();
