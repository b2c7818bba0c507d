'use strict';
// Node mysql2 against tiembed, with the built-in runner (`node --test`).
//
// The server comes from outside, as for tests/python: TIEMBED_HOST
// (127.0.0.1), TIEMBED_PORT (4000), TIEMBED_USER (root), TIEMBED_PASSWORD
// (empty). TIEMBED_TLS_PORT and TIEMBED_TLS_CA name a second server started
// with the config tests/python/tls_fixture.py writes (its CA and accounts);
// without them the TLS and caching_sha2_password tests are skipped.
// scripts/test-all.sh sets all of them.
//
// Each test works in a database of its own, dropped afterwards.

const { test, describe, before, after } = require('node:test');
const assert = require('node:assert/strict');
const crypto = require('node:crypto');
const fs = require('node:fs');
const mysql = require('mysql2/promise');

const HOST = process.env.TIEMBED_HOST || '127.0.0.1';
const PORT = Number(process.env.TIEMBED_PORT || 4000);
const USER = process.env.TIEMBED_USER || 'root';
const PASSWORD = process.env.TIEMBED_PASSWORD || '';
const TLS_PORT = Number(process.env.TIEMBED_TLS_PORT || 0);
const TLS_CA = process.env.TIEMBED_TLS_CA || '';
const NO_TLS_SERVER = !TLS_PORT || !TLS_CA;
// Accounts of tests/python/tls_fixture.py.
const SHA2_PASSWORD = 'sha2-secret';

function connect(options = {}) {
  return mysql.createConnection({
    host: HOST,
    port: PORT,
    user: USER,
    password: PASSWORD,
    connectTimeout: 10000,
    ...options,
  });
}

function connectTls(options = {}) {
  return connect({
    port: TLS_PORT,
    // Verifies the chain against the test CA and the host name (127.0.0.1
    // is in the certificate's subjectAltName).
    ssl: { ca: fs.readFileSync(TLS_CA), rejectUnauthorized: true },
    ...options,
  });
}

async function sslStatus(conn) {
  const [rows] = await conn.query("SHOW STATUS LIKE 'Ssl_%'");
  return Object.fromEntries(rows.map((r) => [r.Variable_name, r.Value]));
}

/** Creates a fresh database and returns [connection to it, drop()]. */
async function freshDatabase(connectFn = connect) {
  const name = `node_${crypto.randomBytes(4).toString('hex')}`;
  const admin = await connectFn();
  await admin.query(`CREATE DATABASE \`${name}\``);
  await admin.end();
  const conn = await connectFn({ database: name });
  const drop = async () => {
    await conn.end().catch(() => {});
    const a = await connectFn();
    await a.query(`DROP DATABASE IF EXISTS \`${name}\``);
    await a.end();
  };
  return [conn, drop, name];
}

describe('mysql2 over plain TCP', () => {
  let conn;
  let drop;
  let dbName;

  before(async () => {
    [conn, drop, dbName] = await freshDatabase();
  });
  after(async () => {
    await drop();
  });

  test('query: text protocol with client-side escaping', async () => {
    const [rows, fields] = await conn.query('SELECT 1 AS one, ? AS s', ["it's"]);
    assert.deepEqual(rows, [{ one: 1, s: "it's" }]);
    assert.equal(fields[0].name, 'one');
    const [[{ db }]] = await conn.query('SELECT DATABASE() AS db');
    assert.equal(db, dbName);
    const [[version]] = await conn.query('SELECT VERSION() AS v');
    assert.match(version.v, /TiDB/);
  });

  test('execute: server-side prepared statements with numbers as DOUBLE', async () => {
    await conn.query(
      'CREATE TABLE people (id INT PRIMARY KEY, name VARCHAR(50), score DOUBLE, note TEXT)'
    );
    // mysql2 sends every JS number as DOUBLE, even 1; the INT column gets it.
    const [ok] = await conn.execute('INSERT INTO people VALUES (?, ?, ?, ?)', [1, 'ann', 2.5, null]);
    assert.equal(ok.affectedRows, 1);
    await conn.execute('INSERT INTO people VALUES (?, ?, ?, ?)', [2, 'bob', -1, 'x']);
    // The same SQL again: mysql2 reuses the cached statement.
    await conn.execute('INSERT INTO people VALUES (?, ?, ?, ?)', [3, 'héllo 中文', 0, "it's"]);

    const [rows] = await conn.execute('SELECT id, name, score, note FROM people WHERE id >= ? ORDER BY id', [2]);
    assert.deepEqual(rows, [
      { id: 2, name: 'bob', score: -1, note: 'x' },
      { id: 3, name: 'héllo 中文', score: 0, note: "it's" },
    ]);
    const [[sum]] = await conn.execute('SELECT ? + ? AS s, ? AS n', [1, 2.25, null]);
    assert.deepEqual(sum, { s: 3.25, n: null });
    const [[one]] = await conn.execute('SELECT name FROM people WHERE id = ?', [1]);
    assert.equal(one.name, 'ann');
  });

  test('VECTOR(3): insert with execute, ORDER BY VEC_COSINE_DISTANCE(v, ?) LIMIT 2', async () => {
    await conn.query('CREATE TABLE items (id INT PRIMARY KEY, label VARCHAR(20), v VECTOR(3))');
    const items = [
      [1, 'x axis', '[1,0,0]'],
      [2, 'y axis', '[0,1,0]'],
      [3, 'near x', '[0.9,0.1,0]'],
      [4, 'z axis', '[0,0,1]'],
    ];
    for (const item of items) {
      await conn.execute('INSERT INTO items (id, label, v) VALUES (?, ?, ?)', item);
    }
    const [rows] = await conn.execute(
      'SELECT id, label, v, VEC_COSINE_DISTANCE(v, ?) AS d FROM items ORDER BY VEC_COSINE_DISTANCE(v, ?) LIMIT 2',
      ['[1,0.05,0]', '[1,0.05,0]']
    );
    assert.deepEqual(
      rows.map((r) => [r.id, r.label, r.v]),
      [
        [1, 'x axis', '[1,0,0]'],
        [3, 'near x', '[0.9,0.1,0]'],
      ]
    );
    assert.ok(rows[0].d >= 0 && rows[0].d < rows[1].d && rows[1].d < 0.01, JSON.stringify(rows));
    // The text protocol gives the same order.
    const [textRows] = await conn.query(
      "SELECT id FROM items ORDER BY VEC_COSINE_DISTANCE(v, '[0,0.9,0.1]') LIMIT 2"
    );
    assert.deepEqual(textRows.map((r) => r.id), [2, 4]);
    // A vector of the wrong dimension is refused.
    await assert.rejects(conn.execute('INSERT INTO items VALUES (?, ?, ?)', [5, 'bad', '[1,2]']), (err) => {
      assert.ok(err.errno > 0, String(err));
      return true;
    });
  });

  test('transactions: rollback discards, commit is visible to others', async () => {
    await conn.query('CREATE TABLE ledger (id INT PRIMARY KEY, amount INT)');
    const other = await connect({ database: dbName });
    try {
      await conn.beginTransaction();
      await conn.execute('INSERT INTO ledger VALUES (?, ?)', [1, 100]);
      const [inside] = await conn.query('SELECT COUNT(*) AS n FROM ledger');
      assert.equal(Number(inside[0].n), 1);
      const [outside] = await other.query('SELECT COUNT(*) AS n FROM ledger');
      assert.equal(Number(outside[0].n), 0, 'uncommitted rows are invisible to others');
      await conn.rollback();
      const [afterRollback] = await conn.query('SELECT COUNT(*) AS n FROM ledger');
      assert.equal(Number(afterRollback[0].n), 0);

      await conn.beginTransaction();
      await conn.execute('INSERT INTO ledger VALUES (?, ?)', [2, 50]);
      await conn.query('UPDATE ledger SET amount = amount + 1 WHERE id = 2');
      await conn.commit();
      const [rows] = await other.query('SELECT id, amount FROM ledger');
      assert.deepEqual(rows, [{ id: 2, amount: 51 }]);
    } finally {
      await other.end();
    }
  });

  test('errors: duplicate key is 1062 / 23000 from query and execute', async () => {
    await conn.query('CREATE TABLE uniq (id INT PRIMARY KEY, name VARCHAR(10))');
    await conn.query("INSERT INTO uniq VALUES (1, 'a')");
    await assert.rejects(conn.query("INSERT INTO uniq VALUES (1, 'b')"), (err) => {
      assert.equal(err.errno, 1062);
      assert.equal(err.sqlState, '23000');
      assert.equal(err.code, 'ER_DUP_ENTRY');
      assert.match(err.sqlMessage, /Duplicate entry '1' for key/);
      return true;
    });
    await assert.rejects(conn.execute('INSERT INTO uniq VALUES (?, ?)', [1, 'c']), (err) => {
      assert.equal(err.errno, 1062);
      assert.equal(err.sqlState, '23000');
      return true;
    });
    await assert.rejects(conn.query('SELECT * FROM no_such_table'), (err) => {
      assert.equal(err.errno, 1146);
      assert.equal(err.sqlState, '42S02');
      return true;
    });
    await assert.rejects(conn.query('SELEC 1'), (err) => {
      assert.equal(err.errno, 1064);
      return true;
    });
    // The connection is still usable after errors.
    const [[row]] = await conn.execute('SELECT COUNT(*) AS n FROM uniq');
    assert.equal(Number(row.n), 1);
  });

  test('wrong password is 1045 with MySQL\'s text', async () => {
    await assert.rejects(connect({ user: 'no_such_user', password: 'x' }), (err) => {
      assert.equal(err.errno, 1045);
      assert.equal(err.sqlState, '28000');
      assert.equal(err.sqlMessage, "Access denied for user 'no_such_user'@'127.0.0.1' (using password: YES)");
      return true;
    });
  });
});

// Skipped one by one, so that the runner counts them as skipped.
const tlsTest = (name, fn) =>
  test(name, { skip: NO_TLS_SERVER && 'TIEMBED_TLS_PORT/TIEMBED_TLS_CA not set' }, fn);

describe('mysql2 over TLS and caching_sha2_password', () => {
  tlsTest('TLS with a verified certificate: query, execute, Ssl_version', async () => {
    const [conn, drop] = await freshDatabase(connectTls);
    try {
      const status = await sslStatus(conn);
      assert.equal(status.Ssl_version, conn.connection.stream.getProtocol());
      assert.equal(status.Ssl_cipher, conn.connection.stream.getCipher().standardName);
      await conn.query('CREATE TABLE t (id INT PRIMARY KEY, v VECTOR(3))');
      await conn.execute('INSERT INTO t VALUES (?, ?)', [1, '[1,2,3]']);
      const [rows] = await conn.execute('SELECT id, v FROM t WHERE id = ?', [1]);
      assert.deepEqual(rows, [{ id: 1, v: '[1,2,3]' }]);
    } finally {
      await drop();
    }
  });

  tlsTest('plain TCP to the TLS server when mysql2 is not asked for TLS', async () => {
    const conn = await connect({ port: TLS_PORT });
    try {
      assert.deepEqual(await sslStatus(conn), { Ssl_cipher: '', Ssl_version: '' });
    } finally {
      await conn.end();
    }
  });

  tlsTest('a certificate the client\'s CAs did not sign is refused', async () => {
    // No `ca`: only the system's CAs, which never signed the test CA.
    await assert.rejects(
      connect({ port: TLS_PORT, ssl: { rejectUnauthorized: true } }),
      (err) => {
        assert.equal(err.code, 'HANDSHAKE_SSL_ERROR');
        assert.match(err.message, /certificate/i);
        return true;
      }
    );
  });

  tlsTest('caching_sha2_password: full auth over TLS, then fast auth', async () => {
    // The account's first login since the server started: the switch to
    // caching_sha2_password, then full authentication (clear text over TLS).
    let conn = await connectTls({ user: 'sha2_node_tls', password: SHA2_PASSWORD });
    const [[who]] = await conn.query('SELECT CURRENT_USER() AS u');
    assert.equal(who.u, 'sha2_node_tls@%');
    await conn.end();
    // Cached: fast authentication, with or without TLS.
    conn = await connect({ port: TLS_PORT, user: 'sha2_node_tls', password: SHA2_PASSWORD });
    await conn.query('SELECT 1');
    await conn.end();
  });

  tlsTest('caching_sha2_password: full auth over plain TCP with the server\'s RSA key', async () => {
    const conn = await connect({ port: TLS_PORT, user: 'sha2_node_rsa', password: SHA2_PASSWORD });
    const [[row]] = await conn.execute('SELECT ? AS x', ['rsa']);
    assert.equal(row.x, 'rsa');
    await conn.end();
  });

  tlsTest('caching_sha2_password: wrong and empty passwords', async () => {
    for (const options of [{}, { ssl: { ca: fs.readFileSync(TLS_CA) } }]) {
      await assert.rejects(
        connect({ port: TLS_PORT, user: 'sha2_user', password: 'wrong', ...options }),
        (err) => {
          assert.equal(err.errno, 1045);
          assert.equal(err.sqlMessage, "Access denied for user 'sha2_user'@'127.0.0.1' (using password: YES)");
          return true;
        }
      );
    }
    const conn = await connect({ port: TLS_PORT, user: 'sha2_empty', password: '' });
    await conn.end();
    await assert.rejects(connect({ port: TLS_PORT, user: 'sha2_user', password: '' }), (err) => {
      assert.equal(err.sqlMessage, "Access denied for user 'sha2_user'@'127.0.0.1' (using password: NO)");
      return true;
    });
  });
});
