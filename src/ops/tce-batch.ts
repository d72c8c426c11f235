/**
 * TCE_PUT_BATCH, the raw fast path. Payload, little-endian:
 *   0 u32 vm_fd, 4 u32 flags (0), 8 u64 liobn, 16 u64 ioba, 24 u32 count, 28 u32 reserved (0),
 *   32 count × u64 TCE.
 * The entries are validated and written straight from the received frame (no copy, no decode).
 *
 * A frame that spans socket chunks is streamed (tceBatchStream): its entries are validated as
 * each chunk arrives, overlapping the wait for the next one, and stored from the chunks once the
 * frame is complete, without assembling it. The handler below is the specification: the stream
 * takes its own path only for a well-formed batch into a table with at most one hardware target
 * whose entries all pass; everything else (any error, several targets, a bad entry) assembles the payload and runs the
 * handler, so every reply and every table state is the handler's.
 */
import type { GuestTceTable } from '../kvm/guest-tce-table.js';
import type { HwTarget } from '../kvm/hw-port.js';
import { tcePutBatch } from '../kvm/hcalls.js';
import { StreamedPut, iobaIndex } from '../kvm/tce-batch.js';
import { Vm } from '../kvm/vm.js';
import { fail } from '../wire/errno.js';
import type { Replies } from '../wire/ops.generated.js';
import type { HandlerMap, OpContext, RawStream } from './context.js';

export const BATCH_HEAD_BYTES = 32;

type Reply = Replies['TCE_PUT_BATCH'];

export const tceBatchHandlers: HandlerMap = {
  TCE_PUT_BATCH: (ctx, payload) => {
    if (payload.byteLength < BATCH_HEAD_BYTES) {
      throw fail('EINVAL', `TCE_PUT_BATCH payload is ${payload.byteLength} bytes, the fixed part alone is ${BATCH_HEAD_BYTES}`);
    }
    const dv = new DataView(payload.buffer, payload.byteOffset, payload.byteLength);
    const vm = ctx.handles.get(dv.getUint32(0, true), Vm, 'vm_fd');
    const flags = dv.getUint32(4, true);
    const count = dv.getUint32(24, true);
    const reserved = dv.getUint32(28, true);
    if (flags !== 0) throw fail('EINVAL', `flags 0x${flags.toString(16)}: none are defined`);
    if (reserved !== 0) throw fail('EINVAL', 'reserved must be 0');
    if (payload.byteLength !== BATCH_HEAD_BYTES + count * 8) {
      throw fail('EINVAL', `count ${count} needs a ${BATCH_HEAD_BYTES + count * 8}-byte payload, got ${payload.byteLength}`);
    }
    return tcePutBatch(vm, dv.getBigUint64(8, true), dv.getBigUint64(16, true), payload, BATCH_HEAD_BYTES, count);
  },
};

/**
 * The streamed TCE_PUT_BATCH of a `payloadBytes`-byte payload (see the header comment); `plain`
 * runs the registered handler on the assembled payload.
 */
export function tceBatchStream(ctx: OpContext, payloadBytes: number, plain: (payload: Uint8Array) => Reply): RawStream<Reply> {
  return new BatchStream(ctx, payloadBytes, plain);
}

/** The table's hardware targets are still the ones the streamed put validated against. */
function sameTargets(a: readonly HwTarget[], b: readonly HwTarget[]): boolean {
  return a.length === b.length && a.every((t, i) => t === b[i]);
}

class BatchStream implements RawStream<Reply> {
  readonly #ctx: OpContext;
  readonly #payloadBytes: number;
  readonly #plain: (payload: Uint8Array) => Reply;
  readonly #pieces: Uint8Array[] = [];
  readonly #head = new Uint8Array(BATCH_HEAD_BYTES);
  #got = 0;
  /** Set once the head is in and the batch qualifies for the streamed path. */
  #put: StreamedPut | undefined;
  #table: GuestTceTable | undefined;
  #vm: Vm | undefined;

  constructor(ctx: OpContext, payloadBytes: number, plain: (payload: Uint8Array) => Reply) {
    this.#ctx = ctx;
    this.#payloadBytes = payloadBytes;
    this.#plain = plain;
  }

  data(piece: Uint8Array): void {
    this.#pieces.push(piece);
    let at = 0;
    if (this.#got < BATCH_HEAD_BYTES) {
      at = Math.min(BATCH_HEAD_BYTES - this.#got, piece.byteLength);
      this.#head.set(piece.subarray(0, at), this.#got);
      this.#got += at;
      if (this.#got < BATCH_HEAD_BYTES) return;
      this.#put = this.#qualify();
    }
    if (this.#put !== undefined && at < piece.byteLength) this.#put.add(piece, at, piece.byteLength - at);
  }

  /** A StreamedPut when the head is well-formed, the table unlinked and the range valid. */
  #qualify(): StreamedPut | undefined {
    const dv = new DataView(this.#head.buffer);
    const vm = this.#ctx.handles.peek(dv.getUint32(0, true));
    const count = dv.getUint32(24, true);
    if (!(vm instanceof Vm) || dv.getUint32(4, true) !== 0 || dv.getUint32(28, true) !== 0) return undefined;
    if (this.#payloadBytes !== BATCH_HEAD_BYTES + count * 8) return undefined;
    const table = vm.findTable(dv.getBigUint64(8, true));
    if (table === undefined) return undefined;
    const index = iobaIndex(table, dv.getBigUint64(16, true), BigInt(count));
    const targets = table.targets();
    if (index < 0 || targets.length > 1) return undefined;
    this.#vm = vm;
    this.#table = table;
    return new StreamedPut(vm.memslots, table, [...targets], index, count);
  }

  end(): Reply {
    const put = this.#put;
    if (put !== undefined && put.valid && put.complete && this.#vm!.ownsTable(this.#table!) && sameTargets(put.targets, this.#table!.targets())) {
      return put.commit();
    }
    return this.#plain(this.#assemble());
  }

  /** The payload in one buffer of its own (so the entries are 8-byte aligned at offset 32). */
  #assemble(): Uint8Array {
    const buf = new Uint8Array(this.#payloadBytes);
    let off = 0;
    for (const p of this.#pieces) {
      buf.set(p, off);
      off += p.byteLength;
    }
    return buf;
  }
}
