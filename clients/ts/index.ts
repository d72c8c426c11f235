/** vphb TypeScript client: `import { Client } from 'vphb/client'`. */
export { Client, HcallChannel, type HcallReplyHandler, type CallOptions, type CallOptionsWithNoReply, type ConnectOptions, type ServerInfo } from './client.js';
export { OpMethods } from './methods.generated.js';
export { defaultSocketPath, parseTarget, type TransportKind } from './transport.js';
export { ERRNO, VphbError, errnoName, isVphbError, type ErrnoName } from '../../src/wire/errno.js';
export type { MsgpackOpName, OpName, Replies, Requests } from '../../src/wire/ops.generated.js';
export type { Capabilities, DdwInfo, GroupInfo, OpInfo, PhbInfo, RangeInfo } from '../../src/wire/structs.js';
