/**
 * Which WebSocket upgrades the server accepts (PROTOCOL.md §1.1): the path `/` only (any query
 * string is ignored), and — if the client offers subprotocols — one of them must be `vphb`, which
 * the server then selects. Anything else is refused with an HTTP error before the upgrade, so a
 * client talking to the wrong endpoint or protocol learns it at once instead of on its first frame.
 */
import type { IncomingMessage } from 'node:http';

export const WS_PATH = '/';
export const WS_SUBPROTOCOL = 'vphb';

/** WebSocket close codes the server uses when a peer breaks the framing rules. */
export const WS_CLOSE = {
  /** A binary message that is not exactly one frame (shorter than a header, or two frames). */
  PROTOCOL_ERROR: 1002,
  /** A text message. */
  UNSUPPORTED_DATA: 1003,
  /** A message above max_frame_size (the ws library's own limit). */
  TOO_BIG: 1009,
} as const;

export type UpgradeVerdict = { ok: true } | { ok: false; status: number; reason: string };

export function checkUpgrade(req: IncomingMessage): UpgradeVerdict {
  const path = (req.url ?? '/').split('?')[0];
  if (path !== WS_PATH) return { ok: false, status: 404, reason: `vphb serves WebSocket on path ${WS_PATH} only, not ${path}` };
  const offered = req.headers['sec-websocket-protocol'];
  if (offered !== undefined) {
    const list = offered.split(',').map((p) => p.trim());
    if (!list.includes(WS_SUBPROTOCOL)) {
      return { ok: false, status: 400, reason: `unsupported WebSocket subprotocol ${list.join(', ')}: offer "${WS_SUBPROTOCOL}" or none` };
    }
  }
  return { ok: true };
}

/** Selects `vphb` when offered (the check above refused every other offer). */
export function selectProtocol(protocols: Set<string>): string | false {
  return protocols.has(WS_SUBPROTOCOL) ? WS_SUBPROTOCOL : false;
}
