'use strict';

// Prepares a fresh clone for `npm test`, `npm run demo` and `npm run bench`: installs the
// npm dev dependencies when they are missing and builds the release addon when a Rust
// source is newer than the built binary. Only Rust (cargo) and Node.js 20+ are needed.

const { spawnSync } = require('node:child_process');
const fs = require('node:fs');
const path = require('node:path');

const root = path.resolve(__dirname, '..');

// Returns how to start npm: { command, prefix, shell }. Under `npm test` or `npm run`,
// npm_execpath is npm's own CLI script, which runs with this Node and needs no shell. Run
// directly, the script uses the npm CLI that Node's installers put next to the node
// binary, and otherwise `npm` from PATH. On Windows that is npm.cmd, and since Node
// 18.20.2 and 20.12.2, spawning a .cmd file without a shell fails with EINVAL (the fix for
// CVE-2024-27980), so the last resort there goes through the shell.
function npmCommand() {
  const execPath = process.env.npm_execpath;
  // yarn and pnpm set npm_execpath to their own CLI, whose commands differ from npm's.
  if (execPath && /^npm-cli\.c?js$/.test(path.basename(execPath))) {
    return { command: process.execPath, prefix: [execPath], shell: false };
  }
  const besideNode = [
    path.join(path.dirname(process.execPath), 'node_modules', 'npm', 'bin', 'npm-cli.js'),
    path.join(path.dirname(process.execPath), '..', 'lib', 'node_modules', 'npm', 'bin', 'npm-cli.js'),
  ].find((file) => fs.existsSync(file));
  if (besideNode) return { command: process.execPath, prefix: [besideNode], shell: false };
  // NOTE: the Windows branch (shell: true) has not been run on Windows.
  return { command: 'npm', prefix: [], shell: process.platform === 'win32' };
}

function runNpm(args) {
  const { command, prefix, shell } = npmCommand();
  run(command, [...prefix, ...args], shell);
}

function run(command, args, shell) {
  console.error(`setup: ${command} ${args.join(' ')}`);
  // With a shell, the command goes as one string: Node 24 deprecates an argument array
  // together with shell: true (DEP0190). Every argument here is a constant.
  const result = shell
    ? spawnSync([command, ...args].join(' '), { cwd: root, stdio: 'inherit', shell })
    : spawnSync(command, args, { cwd: root, stdio: 'inherit' });
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
  runNpm(fs.existsSync(lock) ? ['ci', '--no-audit', '--no-fund'] : ['install', '--no-audit', '--no-fund']);
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
  runNpm(['run', 'build']);
}

installPackages();
buildAddon();
