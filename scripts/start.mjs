// `npm start`: build everything, then open the desktop app. Where Electron's binary is missing (its
// download is blocked on this machine, or it was installed with ELECTRON_SKIP_BINARY_DOWNLOAD=1),
// serve the same UI to a browser with `pix serve` instead of failing; arguments after `npm start --`
// go to whichever starts (e.g. `npm start -- --port 0`).
import { spawn, spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('..', import.meta.url));
const args = process.argv.slice(2);

/** npm as it runs us (npm_execpath), so the build uses the same npm on every platform. */
function runNpm(script) {
  const npmCli = process.env.npm_execpath;
  const result = npmCli
    ? spawnSync(process.execPath, [npmCli, 'run', script], { cwd: root, stdio: 'inherit' })
    : spawnSync('npm', ['run', script], { cwd: root, stdio: 'inherit', shell: process.platform === 'win32' });
  if (result.status !== 0) process.exit(result.status ?? 1);
}

/** The Electron executable, or why there is none: the package throws when its binary was never fetched. */
function findElectron() {
  try {
    const path = createRequire(import.meta.url)('electron');
    return typeof path === 'string' && existsSync(path) ? { path } : { missing: `${path} does not exist` };
  } catch (error) {
    return { missing: error instanceof Error ? error.message : String(error) };
  }
}

/** Runs the app in the foreground; its exit code becomes ours. */
function runForeground(command, commandArgs) {
  const child = spawn(command, commandArgs, { cwd: root, stdio: 'inherit' });
  // Ctrl-C reaches the child from the terminal itself; we wait for it to finish closing.
  process.on('SIGINT', () => {});
  process.on('SIGTERM', () => child.kill('SIGTERM'));
  child.on('exit', (code, signal) => process.exit(code ?? (signal ? 1 : 0)));
}

runNpm('build');
const electron = findElectron();
if (electron.path) {
  runForeground(electron.path, ['.', ...args]);
} else {
  console.log(`\nThe Electron binary is not available (${electron.missing}).`);
  console.log('Serving the workbench to a browser instead: open the URL below.\n');
  runForeground(process.execPath, [fileURLToPath(new URL('../bin/pix.js', import.meta.url)), 'serve', ...args]);
}
