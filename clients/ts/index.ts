/** vphb TypeScript client: `import { Client } from 'vphb/client'`. */
export {
  Client, HcallChannel, type CallOptions, type CallOptionsWithNoReply, type ClientEvents, type ConnectOptions, type HcallReplyHandler, type IrqEvent, type ServerInfo,
} from './client.js';
export { OpMethods } from './methods.generated.js';
export { defaultSocketPath, parseTarget, type TransportKind } from './transport.js';
export { ERRNO, VphbError, errnoName, isVphbError, type ErrnoName } from '../../src/wire/errno.js';
export type { EventName, Events, MsgpackOpName, OpName, Replies, Requests } from '../../src/wire/ops.generated.js';
export type {
  Capabilities, DdwInfo, GroupInfo, HostConnection, HostContainer, HostDevice, HostPe, HostPhb, HostVm, IovaRange, OpInfo, PciBarInfo,
  PciFunctionInfo, PhbInfo, RangeInfo, ResvRegionInfo, SmmuInfo, Type1Migration,
} from '../../src/wire/structs.js';
