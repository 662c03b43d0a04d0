// Runs compat test files over a TLS transport: makes a throwaway CA and a server certificate
// for 127.0.0.1 and localhost (tests/common/make_test_certs.sh, the `openssl` command), then
// runs `node --test` on the files with NODE_EXTRA_CA_CERTS naming that CA (Node reads it only
// when it starts, hence the second process) and the server's files for harness.mjs.
//
//   node tls_run.mjs https|wss|libsql FILE.test.mjs...
import { spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';

const [transport, ...files] = process.argv.slice(2);
if (!['https', 'wss', 'libsql'].includes(transport) || files.length === 0) {
  console.error('usage: node tls_run.mjs https|wss|libsql FILE.test.mjs...');
  process.exit(2);
}
const here = import.meta.dirname ?? new URL('.', import.meta.url).pathname;
const script = path.resolve(here, '../common/make_test_certs.sh');
const dir = mkdtempSync(path.join(tmpdir(), 'quarry-compat-tls-'));
let status = 1;
try {
  for (const args of [['ca', dir], ['server', dir, 'server', 'quarry-compat', '0x2001']]) {
    const made = spawnSync(script, args, { stdio: 'inherit' });
    if (made.status !== 0) throw new Error(`${script} ${args.join(' ')} failed`);
  }
  const run = spawnSync(process.execPath,
    ['--test', '--test-concurrency=1', '--test-timeout=300000', ...files], {
      stdio: 'inherit',
      env: {
        ...process.env,
        QUARRY_COMPAT_TRANSPORT: transport,
        QUARRY_COMPAT_TLS_CERT: path.join(dir, 'server.crt'),
        QUARRY_COMPAT_TLS_KEY: path.join(dir, 'server.key'),
        NODE_EXTRA_CA_CERTS: path.join(dir, 'ca.crt'),
      },
    });
  status = run.status ?? 1;
} finally {
  rmSync(dir, { recursive: true, force: true });
}
process.exit(status);
