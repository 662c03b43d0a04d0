// The real drizzle-kit (pinned in package.json) against a real Quarry server: both dialects
// ("sqlite" through @libsql/client, and "turso"), `push` and `generate` + `migrate`, changing a
// column of a parent table whose children reference it with ON DELETE CASCADE. Every row must
// survive, and Quarry's own migration history with it. Then libSQL's ALTER COLUMN by hand over
// raw Hrana: in execute, batch (inside a transaction) and sequence, and its errors.
//
// Regression tests: drizzle-kit push deleted every child row (its rebuild's DROP TABLE cascaded:
// its PRAGMA foreign_keys=OFF is a separate request) and dropped _quarry_migrations; the turso
// dialect's ALTER COLUMN was refused by SQLite; `quarry migrate status` did not know what
// drizzle-kit's migrator had applied.
import { test, before, after, describe } from 'node:test';
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtemp, mkdir, writeFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { startServer, QUARRY_BIN, hrana, exec, close } from './harness.mjs';

const here = path.dirname(fileURLToPath(import.meta.url));
const DRIZZLE_KIT = path.join(here, 'node_modules', 'drizzle-kit', 'bin.cjs');
const STEP_TIMEOUT_MS = 120_000;

let server;
let scratch;

before(async () => {
  server = await startServer();
  scratch = await mkdtemp(path.join(tmpdir(), 'quarry-drizzle-kit-'));
});

after(async () => {
  await server?.stop();
  if (scratch) await rm(scratch, { recursive: true, force: true });
});

// Runs a program to completion (killed after STEP_TIMEOUT_MS); fails the test on a non-zero exit.
function run(bin, args, { cwd, env, okCodes = [0] } = {}) {
  return new Promise((resolve, reject) => {
    const child = spawn(bin, args, {
      cwd,
      env: { ...process.env, ...env },
      stdio: ['ignore', 'pipe', 'pipe'],
      timeout: STEP_TIMEOUT_MS,
      killSignal: 'SIGKILL',
    });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (c) => { stdout += c; });
    child.stderr.on('data', (c) => { stderr += c; });
    child.on('error', reject);
    child.on('close', (code, signal) => {
      if (okCodes.includes(code)) resolve({ stdout, stderr, code });
      else reject(new Error(`${path.basename(bin)} ${args.join(' ')} exited ${code ?? signal}\n${stdout}\n${stderr}`));
    });
  });
}

// drizzle-kit loads the schema and config through its own require hook: node_modules of this
// folder must resolve from the temporary project.
const drizzleKit = (dir, ...args) =>
  run(process.execPath, [DRIZZLE_KIT, ...args, '--config', path.join(dir, 'drizzle.config.ts')], {
    cwd: dir,
    env: { NODE_PATH: path.join(here, 'node_modules') },
  });

const quarry = (...args) => run(QUARRY_BIN, [...args, '--url', server.origin, '--token', server.adminToken]);

// `migrate status` exits 0 when everything is applied, 3 with pending and 4 with modified or
// missing migrations (docs/migrations.md); the states are in its JSON either way.
const quarryStatus = (...args) =>
  run(QUARRY_BIN, [...args, '--url', server.origin, '--token', server.adminToken], { okCodes: [0, 3, 4] });

// v1: parent.name nullable; v2: NOT NULL with a default (a rebuild for "sqlite", ALTER COLUMN
// for "turso").
function schemaSource(version) {
  const name = version === 1 ? "text('name')" : "text('name').notNull().default('')";
  return `import { sqliteTable, integer, text } from 'drizzle-orm/sqlite-core';
export const parent = sqliteTable('parent', {
  id: integer('id').primaryKey(),
  name: ${name},
});
export const child = sqliteTable('child', {
  id: integer('id').primaryKey(),
  parentId: integer('parent_id').notNull().references(() => parent.id, { onDelete: 'cascade' }),
  label: text('label'),
});
`;
}

async function writeProject(dir, { dialect, ns, version }) {
  await mkdir(dir, { recursive: true });
  await writeFile(path.join(dir, 'schema.ts'), schemaSource(version));
  const url = `${server.origin}/db/${ns}/`;
  const credentials = dialect === 'turso'
    ? { url, authToken: server.adminToken }
    : { url: `${url}?authToken=${server.adminToken}` };
  const config = {
    dialect,
    // Relative to the project (drizzle-kit's working folder): it prefixes "./" to some paths.
    schema: './schema.ts',
    out: './drizzle',
    dbCredentials: credentials,
  };
  await writeFile(path.join(dir, 'drizzle.config.ts'), `export default ${JSON.stringify(config, null, 2)};\n`);
}

// A Quarry-format migrations folder with one migration, applied with `quarry migrate apply`.
async function applyQuarryHistory(dir, ns) {
  const folder = path.join(dir, 'quarry-migrations');
  await mkdir(folder, { recursive: true });
  await writeFile(path.join(folder, '20240101000000_seed.sql'),
    "INSERT INTO parent (id, name) VALUES (3, 'seeded');\n" +
    "INSERT INTO child (id, parent_id, label) VALUES (4, 3, 'seeded child');\n");
  await quarry('migrate', 'apply', '--db', ns, '--dir', folder);
  return folder;
}

async function statusOf(ns, folder) {
  const { stdout, code } = await quarryStatus('migrate', 'status', '--db', ns, '--dir', folder, '--json');
  const states = Object.fromEntries(JSON.parse(stdout).migrations.map((m) => [m.id, m.state]));
  const expected = Object.values(states).some((s) => s === 'modified' || s === 'missing') ? 4
    : Object.values(states).includes('pending') ? 3 : 0;
  assert.equal(code, expected, `migrate status exit code for ${JSON.stringify(states)}`);
  return states;
}

async function seedRows(client) {
  await client.batch([
    "INSERT INTO parent (id, name) VALUES (1, 'a'), (2, 'b')",
    "INSERT INTO child (id, parent_id, label) VALUES (1, 1, 'a1'), (2, 1, 'a2'), (3, 2, 'b1')",
  ], 'write');
}

async function assertEveryRowSurvived(client) {
  const parents = await client.execute('SELECT id, name FROM parent ORDER BY id');
  assert.deepEqual(parents.rows.map((r) => [Number(r.id), r.name]),
    [[1, 'a'], [2, 'b'], [3, 'seeded']]);
  const children = await client.execute('SELECT id, parent_id, label FROM child ORDER BY id');
  assert.deepEqual(children.rows.map((r) => [Number(r.id), Number(r.parent_id), r.label]),
    [[1, 1, 'a1'], [2, 1, 'a2'], [3, 2, 'b1'], [4, 3, 'seeded child']]);
  // The change itself was made: name is NOT NULL now.
  const info = await client.execute("SELECT \"notnull\" FROM pragma_table_info('parent') WHERE name = 'name'");
  assert.equal(Number(info.rows[0].notnull), 1);
  const violations = await client.execute('SELECT count(*) AS n FROM pragma_foreign_key_check');
  assert.equal(Number(violations.rows[0].n), 0);
  // The cascade still holds on the rebuilt parent.
  await client.execute('DELETE FROM parent WHERE id = 2');
  const left = await client.execute('SELECT count(*) AS n FROM child WHERE parent_id = 2');
  assert.equal(Number(left.rows[0].n), 0);
}

for (const dialect of ['sqlite', 'turso']) {
  describe(`drizzle-kit, dialect "${dialect}"`, () => {
    test('push of a column change keeps every parent and child row and Quarry\'s history', async () => {
      const ns = `push-${dialect}`;
      const dir = path.join(scratch, ns);
      await server.createNamespace(ns);
      const client = server.client(ns);
      try {
        await writeProject(dir, { dialect, ns, version: 1 });
        await drizzleKit(dir, 'push', '--force');
        await seedRows(client);
        const history = await applyQuarryHistory(dir, ns);
        assert.deepEqual(await statusOf(ns, history), { '20240101000000_seed': 'applied' });

        await writeProject(dir, { dialect, ns, version: 2 });
        await drizzleKit(dir, 'push', '--force');

        await assertEveryRowSurvived(client);
        assert.deepEqual(await statusOf(ns, history), { '20240101000000_seed': 'applied' });
      } finally {
        client.close();
      }
    });

    test('generate + migrate of a column change keeps every row; status knows both histories', async () => {
      const ns = `gen-${dialect}`;
      const dir = path.join(scratch, ns);
      await server.createNamespace(ns);
      const client = server.client(ns);
      try {
        await writeProject(dir, { dialect, ns, version: 1 });
        await drizzleKit(dir, 'generate', '--name', 'init');
        await drizzleKit(dir, 'migrate');
        await seedRows(client);
        const history = await applyQuarryHistory(dir, ns);

        await writeProject(dir, { dialect, ns, version: 2 });
        await drizzleKit(dir, 'generate', '--name', 'name_not_null');
        await drizzleKit(dir, 'migrate');

        await assertEveryRowSurvived(client);
        assert.deepEqual(await statusOf(ns, history), { '20240101000000_seed': 'applied' });
        // The folder drizzle-kit's migrator applied is applied for Quarry too (Quarry's own
        // history, from another folder, is reported as not in this one).
        const drizzleStatus = await statusOf(ns, path.join(dir, 'drizzle'));
        assert.deepEqual(drizzleStatus, {
          '0000_init': 'applied',
          '0001_name_not_null': 'applied',
          '20240101000000_seed': 'missing',
        });
      } finally {
        client.close();
      }
    });
  });
}

describe('libSQL ALTER COLUMN over raw Hrana', () => {
  test('works in execute, batch and sequence, in and out of a transaction, and says what is wrong', async () => {
    const ns = 'alter-raw';
    await server.createNamespace(ns);
    const r = await hrana(server, {
      requests: [
        { type: 'sequence', sql: "CREATE TABLE p (id INTEGER PRIMARY KEY, v TEXT); CREATE TABLE c (p INTEGER REFERENCES p(id) ON DELETE CASCADE); INSERT INTO p VALUES (1, 'x'); INSERT INTO c VALUES (1);" },
        { type: 'sequence', sql: "ALTER TABLE p ALTER COLUMN v TO v TEXT NOT NULL; INSERT INTO p VALUES (2, 'y');" },
        exec('ALTER TABLE p ALTER COLUMN v TO v TEXT NOT NULL DEFAULT \'d\''),
        {
          type: 'batch', batch: { steps: [
            { stmt: { sql: 'PRAGMA foreign_keys = OFF' } },
            { stmt: { sql: 'BEGIN' } },
            { stmt: { sql: 'ALTER TABLE p ALTER COLUMN v TO v TEXT CHECK (length(v) = 1)' } },
            { stmt: { sql: 'COMMIT' } },
          ] },
        },
        exec('ALTER TABLE p ALTER COLUMN v TO w TEXT'),
        exec('ALTER TABLE p ALTER COLUMN v TO v TEXT; SELECT 1'),
        exec('ALTER TABLE p ALTER COLUMN v TO v TEXT CHECK (length(v) > 5)'),
        exec('SELECT (SELECT count(*) FROM p) AS parents, (SELECT count(*) FROM c) AS children, (SELECT sql FROM sqlite_schema WHERE name = \'p\') AS ddl'),
        close,
      ],
    }, { ns });
    assert.equal(r.status, 200, r.text);
    const [seq1, seq2, one, batch, renamed, many, misfit, check] = r.json.results;
    for (const ok of [seq1, seq2, one]) assert.equal(ok.type, 'ok', JSON.stringify(ok));
    assert.equal(batch.type, 'ok');
    assert.deepEqual(batch.response.result.step_errors, [null, null, null, null]);
    assert.equal(renamed.type, 'error');
    assert.match(renamed.error.message, /RENAME COLUMN/);
    assert.equal(many.type, 'error');
    assert.match(many.error.message, /more than one statement/);
    assert.equal(misfit.type, 'error');
    assert.match(misfit.error.message, /p\.v: existing rows do not fit/);
    const [parents, children, ddl] = check.response.result.rows[0].map((v) => v.value);
    assert.equal(Number(parents), 2);
    assert.equal(Number(children), 1);
    assert.match(ddl, /v TEXT CHECK \(length\(v\) = 1\)/);
  });
});
