#!/usr/bin/env node
// Generates libvphb's typed op wrappers from protocol/ops.json:
//   clients/c/include/vphb_ops.h  op codes, request/reply structs, prototypes
//   clients/c/src/ops.c           the wrappers (fields by name over the generic call API)
// `node clients/c/gen-c.mjs --check` exits 1 when the committed files are stale.
import { readFileSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const here = dirname(fileURLToPath(import.meta.url));
const root = join(here, '..', '..');
const spec = JSON.parse(readFileSync(join(root, 'protocol', 'ops.json'), 'utf8'));
const check = process.argv.includes('--check');

const C_KEYWORDS = new Set(['auto', 'break', 'case', 'char', 'const', 'continue', 'default', 'do', 'double', 'else', 'enum',
  'extern', 'float', 'for', 'goto', 'if', 'inline', 'int', 'long', 'register', 'restrict', 'return', 'short', 'signed',
  'sizeof', 'static', 'struct', 'switch', 'typedef', 'union', 'unsigned', 'void', 'volatile', 'while']);
const ident = (n) => (C_KEYWORDS.has(n) ? `${n}_` : n.replace(/[^A-Za-z0-9_]/g, '_'));
const lower = (op) => `vphb_${op.name.toLowerCase()}`;

/** How one field is held in C and put on / taken off the wire. */
function kind(type) {
  switch (type) {
    case 'fd': case 's32': return { c: 'int32_t', scalar: true, enc: 'INT', dec: 's32' };
    case 'u16': return { c: 'uint16_t', scalar: true, enc: 'UINT', dec: 'u16' };
    case 'u32': return { c: 'uint32_t', scalar: true, enc: 'UINT', dec: 'u32' };
    case 'u64': return { c: 'uint64_t', scalar: true, enc: 'UINT', dec: 'u64' };
    case 'bool': return { c: 'bool', scalar: true, enc: 'BOOL', dec: 'bool' };
    case 'str': return { c: 'const char *', scalar: false, enc: 'STR', dec: 'bytes' };
    case 'bin': return { c: 'const void *', scalar: false, enc: 'BIN', dec: 'bytes' };
    case 'u64[]': return { c: 'const uint64_t *', scalar: false, enc: 'U64S', dec: 'object' };
    case 's32[]': return { c: 'const int32_t *', scalar: false, enc: 'S32S', dec: 'object' };
    default: return { c: 'const msgpack_object *', scalar: false, enc: 'OBJECT', dec: 'object' };
  }
}

const msgpackOps = spec.ops.filter((op) => op.payload !== 'raw' && op.direction !== 'server');
const serverOps = spec.ops.filter((op) => op.direction === 'server');

/** C struct members for decoded fields. */
function decodedMembers(fields) {
  const out = [];
  for (const f of fields) {
    const k = kind(f.type);
    const ct = k.dec === 'object' ? 'const msgpack_object *' : k.dec === 'bytes' ? 'const void *' : k.c;
    out.push(`    bool has_${ident(f.name)};`);
    out.push(`    ${ct}${ct.endsWith('*') ? '' : ' '}${ident(f.name)};`);
    if (k.dec === 'bytes') out.push(`    size_t ${ident(f.name)}_len;`);
  }
  return out;
}

/** C statements decoding fields of reply r into dst->; sets bad on a missing/ill-typed field. */
function decodeStatements(fields, dst) {
  const out = ['    const msgpack_object *o;', '    int bad = 0;'];
  for (const f of fields) {
    const k = kind(f.type);
    const v = `${dst}->${ident(f.name)}`;
    out.push(`    o = vphb_get(r, "${f.name}");`);
    out.push(`    ${dst}->has_${ident(f.name)} = o != NULL;`);
    let dec;
    switch (k.dec) {
      case 'u16': dec = `{ uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT16_MAX) ${v} = (uint16_t)t; else bad = 1; }`; break;
      case 'u32': dec = `{ uint64_t t; if (vphb_obj_u64(o, &t) == 0 && t <= UINT32_MAX) ${v} = (uint32_t)t; else bad = 1; }`; break;
      case 'u64': dec = `{ if (vphb_obj_u64(o, &${v}) != 0) bad = 1; }`; break;
      case 's32': dec = `{ int64_t t; if (vphb_obj_i64(o, &t) == 0 && t >= INT32_MIN && t <= INT32_MAX) ${v} = (int32_t)t; else bad = 1; }`; break;
      case 'bool': dec = `{ if (o->type == MSGPACK_OBJECT_BOOLEAN) ${v} = o->via.boolean; else bad = 1; }`; break;
      case 'bytes': dec = `{ if (o->type == MSGPACK_OBJECT_STR) { ${v} = o->via.str.ptr; ${v}_len = o->via.str.size; } else if (o->type == MSGPACK_OBJECT_BIN) { ${v} = o->via.bin.ptr; ${v}_len = o->via.bin.size; } else bad = 1; }`; break;
      default: dec = `${v} = o;`;
    }
    out.push(`    if (o != NULL) ${dec}`);
    if (!f.optional) out.push('    else bad = 1;');
  }
  return out;
}
const h = [];
const c = [];
h.push('/* Generated from protocol/ops.json by clients/c/gen-c.mjs: do not edit. */');
h.push('#ifndef VPHB_OPS_H', '#define VPHB_OPS_H', '', '#include "vphb.h"', '');
h.push(`#define VPHB_PROTOCOL_MINOR ${spec.version[1]}`, '');
for (const op of spec.ops) h.push(`#define VPHB_OP_${op.name} ${op.code}`);
h.push('', '/** Name of an op code of ops.json, or NULL. */', 'const char *vphb_op_name(uint16_t code);', '');
h.push('/* Each op: struct <op>_req (optional fields have has_<name>), struct <op>_rep (a reply with',
  ' * strings, bytes or nested values keeps them in .reply, to be freed with vphb_reply_free),',
  ' * <op>() = <op>_send() + <op>_recv(). Raw ops (TCE_PUT_BATCH) have hand-written calls in vphb.h. */', '');

c.push('/* Generated from protocol/ops.json by clients/c/gen-c.mjs: do not edit. */');
c.push('#include "vphb.h"', '#include "internal.h"', '', '#include <errno.h>', '#include <stdlib.h>', '');
c.push('const char *vphb_op_name(uint16_t code)', '{', '    switch (code) {');
for (const op of spec.ops) c.push(`    case ${op.code}: return "${op.name}";`);
c.push('    default: return NULL;', '    }', '}', '');

for (const op of msgpackOps) {
  const fn = lower(op);
  const req = op.request ?? [];
  const rep = op.reply ?? [];
  const needsReply = rep.some((f) => !kind(f.type).scalar);
  h.push(`/* ${op.name} (${op.code}) */`);
  if (req.length > 0) {
    h.push(`struct ${fn}_req {`);
    for (const f of req) {
      const k = kind(f.type);
      if (f.optional) h.push(`    bool has_${ident(f.name)};`);
      h.push(`    ${k.c}${k.c.endsWith('*') ? '' : ' '}${ident(f.name)};`);
      if (k.enc === 'BIN') h.push(`    size_t ${ident(f.name)}_len;`);
      if (k.enc === 'U64S' || k.enc === 'S32S') h.push(`    size_t ${ident(f.name)}_count;`);
    }
    h.push('};');
  }
  if (rep.length > 0) {
    h.push(`struct ${fn}_rep {`);
    h.push(...decodedMembers(rep));
    if (needsReply) h.push('    vphb_reply *reply;');
    h.push('};');
  }
  const reqParam = req.length > 0 ? `, const struct ${fn}_req *req` : '';
  const repParam = rep.length > 0 ? `, struct ${fn}_rep *rep` : '';
  h.push(`int ${fn}_send(vphb_conn *c${reqParam}, uint16_t *msg_id);`);
  h.push(`int ${fn}_recv(vphb_conn *c, uint16_t msg_id${repParam});`);
  h.push(`int ${fn}(vphb_conn *c${reqParam}${repParam});`, '');

  // send
  c.push(`int ${fn}_send(vphb_conn *c${reqParam}, uint16_t *msg_id)`, '{');
  if (req.length > 0) {
    c.push(`    vphb_field f[${req.length}];`, '    size_t n = 0;');
    for (const f of req) {
      const k = kind(f.type);
      const v = `req->${ident(f.name)}`;
      let val;
      switch (k.enc) {
        case 'INT': val = `.v.i = ${v}`; break;
        case 'UINT': val = `.v.u = ${v}`; break;
        case 'BOOL': val = `.v.b = ${v}`; break;
        case 'STR': val = `.v.bytes = { ${v}, (size_t)-1 }`; break;
        case 'BIN': val = `.v.bytes = { ${v}, ${v}_len }`; break;
        case 'U64S': val = `.v.u64s = { ${v}, ${v}_count }`; break;
        case 'S32S': val = `.v.s32s = { ${v}, ${v}_count }`; break;
        default: val = `.v.obj = ${v}`;
      }
      const line = `f[n++] = (vphb_field){ .name = "${f.name}", .type = VPHB_F_${k.enc}, ${val} };`;
      const guard = [];
      if (f.optional) guard.push(`req->has_${ident(f.name)}`);
      if (k.enc === 'OBJECT') guard.push(`${v} != NULL`);
      c.push(guard.length > 0 ? `    if (${guard.join(' && ')}) ${line}` : `    ${line}`);
    }
    c.push(`    return vphb_send(c, ${op.code}, f, n, msg_id);`);
  } else {
    c.push(`    return vphb_send(c, ${op.code}, NULL, 0, msg_id);`);
  }
  c.push('}', '');

  // recv
  c.push(`int ${fn}_recv(vphb_conn *c, uint16_t msg_id${repParam})`, '{');
  c.push('    vphb_reply *r;', '    int e = vphb_wait(c, msg_id, &r);', '    if (e < 0) return e;');
  c.push('    e = vphb_reply_status(r);', '    if (e < 0) { vphb_reply_free(r); return e; }');
  if (rep.length > 0) {
    c.push(...decodeStatements(rep, 'rep'));
    c.push(`    if (bad) { vphb_set_message_("${op.name} reply: a field is missing or of the wrong type", NULL, 0); vphb_reply_free(r); return -EBADMSG; }`);
  }
  if (needsReply) c.push('    rep->reply = r;'); else c.push('    vphb_reply_free(r);');
  c.push('    return 0;', '}', '');

  // call
  const reqArg = req.length > 0 ? ', req' : '';
  const repArg = rep.length > 0 ? ', rep' : '';
  c.push(`int ${fn}(vphb_conn *c${reqParam}${repParam})`, '{');
  c.push('    uint16_t id;', `    int e = ${fn}_send(c${reqArg}, &id);`, `    return e < 0 ? e : ${fn}_recv(c, id${repArg});`, '}', '');
}
for (const op of serverOps) {
  const fn = lower(op);
  const fields = op.request ?? [];
  h.push(`/* ${op.name} (${op.code}): sent by the server; decode it in the vphb_on_event callback. */`);
  h.push(`struct ${fn}_event {`, ...decodedMembers(fields), '};');
  h.push(`int ${fn}_decode(const vphb_reply *frame, struct ${fn}_event *ev);`, '');
  c.push(`int ${fn}_decode(const vphb_reply *r, struct ${fn}_event *ev)`, '{');
  c.push(`    if (r->command != ${op.code}) return -EINVAL;`);
  c.push(...decodeStatements(fields, 'ev'));
  c.push(`    if (bad) { vphb_set_message_("${op.name} frame: a field is missing or of the wrong type", NULL, 0); return -EBADMSG; }`);
  c.push('    return 0;', '}', '');
}
h.push('#endif', '');

const outputs = [
  [join(here, 'include', 'vphb_ops.h'), h.join('\n')],
  [join(here, 'src', 'ops.c'), c.join('\n')],
];
let stale = false;
for (const [file, text] of outputs) {
  let old = '';
  try { old = readFileSync(file, 'utf8'); } catch { /* absent */ }
  if (old === text) continue;
  if (check) {
    process.stderr.write(`${file} is stale: run node clients/c/gen-c.mjs\n`);
    stale = true;
  } else {
    writeFileSync(file, text);
  }
}
process.exit(stale ? 1 : 0);
