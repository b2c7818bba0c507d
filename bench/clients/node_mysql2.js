#!/usr/bin/env node
// Node mysql2 (promise API) driver of bench/clients.
//
//   node node_mysql2.js --mode query|execute --port P --script script.json [--db D] [--trace F]
//
// query:   conn.query(literal SQL) (text protocol)
// execute: conn.execute(`?` template, params) (prepared statements, cached
//          per connection by mysql2); DDL and BEGIN/COMMIT/ROLLBACK go
//          through query(), as beginTransaction()/commit() would send them.
// Prints one JSON line like the Python drivers (see common.py for the
// normalisation of values that the checksum uses).
'use strict';
const path = require('path');
const fs = require('fs');
const crypto = require('crypto');
const { createRequire } = require('module');

const ROOT = path.resolve(__dirname, '..', '..');
const req = createRequire(path.join(ROOT, 'tests', 'node', 'package.json'));
const mysql = req('mysql2/promise');

function parseArgs(argv) {
  const a = { host: '127.0.0.1', user: 'root', password: '', db: 'tiembed_clients', mode: 'query' };
  for (let i = 2; i < argv.length; i += 2) {
    const k = argv[i].replace(/^--/, '');
    a[k] = argv[i + 1];
  }
  if (!a.port || !a.script) throw new Error('--port and --script are required');
  a.port = Number(a.port);
  return a;
}

const NUM = /^-?\d+(\.\d*)?([eE][+-]?\d+)?$/;
function norm(v) {
  if (v === null || v === undefined) return 'NULL';
  if (Buffer.isBuffer(v)) v = v.toString('utf8');
  if (typeof v === 'number' || typeof v === 'bigint') return Number(v).toFixed(6);
  if (v instanceof Date) throw new Error('unexpected Date (dateStrings is on)');
  const s = String(v);
  if (NUM.test(s)) return parseFloat(s).toFixed(6);
  return s;
}

const TEXT_KINDS = new Set(['ddl', 'begin', 'commit', 'rollback']);

async function main() {
  const a = parseArgs(process.argv);
  const script = JSON.parse(fs.readFileSync(a.script, 'utf8'));
  const stmts = script.statements;
  const client = a.mode === 'execute' ? 'mysql2-execute' : 'mysql2-query';
  const h = crypto.createHash('sha256');
  let nrows = 0;
  const kinds = {};
  const trace = [];
  let last = [];
  const t0 = process.hrtime.bigint();
  const secs = (t) => Number(process.hrtime.bigint() - t) / 1e9;
  const conn = await mysql.createConnection({
    host: a.host, port: a.port, user: a.user, password: a.password, database: a.db,
    charset: 'UTF8MB4_GENERAL_CI', dateStrings: true, rowsAsArray: true,
    supportBigNumbers: true,
  });
  const connect = secs(t0);
  for (let i = 0; i < stmts.length; i++) {
    const s = stmts[i];
    const t = process.hrtime.bigint();
    let res;
    if (a.mode === 'execute' && !TEXT_KINDS.has(s.kind)) {
      [res] = await conn.execute(s.tmpl, s.params);
    } else {
      [res] = await conn.query(s.sql);
    }
    const dt = secs(t);
    const k = kinds[s.kind] || (kinds[s.kind] = [0, 0]);
    k[0] += 1;
    k[1] += dt;
    trace.push([i, s.kind, dt]);
    if (Array.isArray(res)) {
      const lines = res.map((r) => r.map(norm).join('\t') + '\n');
      for (const l of lines) h.update(l, 'utf8');
      nrows += lines.length;
      last.push(lines);
      if (last.length > 2) last.shift();
    } else if (s.kind === 'final') {
      throw new Error(`statement ${i} returned no rows`);
    }
  }
  await conn.end();
  const elapsed = secs(t0);
  if (a.trace) fs.writeFileSync(a.trace, JSON.stringify(trace));
  console.log(JSON.stringify({
    client, elapsed, connect, statements: stmts.length, rows: nrows,
    checksum: h.digest('hex'), tail: last.flat().map((l) => l.replace(/\n$/, '')), kinds,
  }));
}

main().catch((e) => { console.error(e); process.exit(1); });
