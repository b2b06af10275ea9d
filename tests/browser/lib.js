// Shared helpers of the browser tests: Debian's headless Chromium driven by playwright-core
// (never the `playwright` package, and never `playwright install`: no browser is downloaded).
'use strict';

const fs = require('node:fs');
const os = require('node:os');
const path = require('node:path');
const { spawn, spawnSync } = require('node:child_process');
const { chromium } = require('playwright-core');

const CHROMIUM = process.env.CAREMESH_CHROMIUM || '/usr/bin/chromium';
const CHROMIUM_ARGS = [
  '--headless',
  '--no-sandbox',
  '--disable-gpu',
  '--disable-quic',
  '--no-first-run',
  '--disable-background-networking',
  '--disable-component-update',
  '--disable-sync',
];
const REPO = path.resolve(__dirname, '..', '..');

// The caremesh binary: CAREMESH_BIN (run.sh sets it from its argument).
function caremeshBinary() {
  const bin = process.env.CAREMESH_BIN;
  if (!bin || !fs.existsSync(bin)) {
    throw new Error('set CAREMESH_BIN to the caremesh executable (tests/browser/run.sh does)');
  }
  return bin;
}

// A fresh browser profile per test (a new user-data-dir, removed afterwards).
async function launchBrowser() {
  const userDataDir = fs.mkdtempSync(path.join(os.tmpdir(), 'caremesh-chromium-'));
  const context = await chromium.launchPersistentContext(userDataDir, {
    executablePath: CHROMIUM,
    headless: true,
    args: CHROMIUM_ARGS,
    timeout: 60_000,
  });
  const page = context.pages()[0] || (await context.newPage());
  // Everything the pages of this context ask for, and every error they report.
  const requests = [];
  const errors = [];
  context.on('request', (r) => requests.push(r.url()));
  page.on('console', (m) => {
    if (m.type() === 'error') errors.push(`console: ${m.text()}`);
  });
  page.on('pageerror', (e) => errors.push(`page error: ${e.message}`));
  page.on('requestfailed', (r) => errors.push(`request failed: ${r.url()}`));
  return {
    context,
    page,
    requests,
    errors,
    async close() {
      await context.close().catch(() => {});
      fs.rmSync(userDataDir, { recursive: true, force: true });
    },
  };
}

// Runs caremesh to completion; throws with its output when it fails.
function caremesh(args) {
  const r = spawnSync(caremeshBinary(), args, { encoding: 'utf8', timeout: 120_000 });
  if (r.status !== 0) {
    throw new Error(`caremesh ${args.join(' ')} exited ${r.status}\n${r.stdout}\n${r.stderr}`);
  }
  return r;
}

// Starts `caremesh serve ARGS --port 0` and resolves with { port, proc, output } once it
// prints the address it listens on (127.0.0.1 only).
function startServer(args, timeoutMs = 60_000) {
  const proc = spawn(caremeshBinary(), ['serve', ...args, '--port', '0'], {
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  const output = { text: '' };
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => {
      proc.kill('SIGKILL');
      reject(new Error(`caremesh serve did not start in ${timeoutMs} ms:\n${output.text}`));
    }, timeoutMs);
    const onData = (chunk) => {
      output.text += chunk.toString();
      const m = output.text.match(/listening on http:\/\/127\.0\.0\.1:(\d+)\//);
      if (m) {
        clearTimeout(timer);
        resolve({ port: Number(m[1]), proc, output });
      }
    };
    proc.stdout.on('data', onData);
    proc.stderr.on('data', onData);
    proc.on('exit', (code) => {
      clearTimeout(timer);
      reject(new Error(`caremesh serve exited early (${code}):\n${output.text}`));
    });
  });
}

// Sends SIGTERM and resolves with the exit code (SIGKILL after timeoutMs).
function stopServer(server, timeoutMs = 15_000) {
  return new Promise((resolve) => {
    if (server.proc.exitCode !== null) {
      resolve(server.proc.exitCode);
      return;
    }
    const timer = setTimeout(() => server.proc.kill('SIGKILL'), timeoutMs);
    server.proc.removeAllListeners('exit');
    server.proc.on('exit', (code, signal) => {
      clearTimeout(timer);
      resolve(code === null ? signal : code);
    });
    server.proc.kill('SIGTERM');
  });
}

module.exports = { REPO, launchBrowser, caremesh, caremeshBinary, startServer, stopServer };
