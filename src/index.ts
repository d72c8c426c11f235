/** vphb as a library: start a server in-process, or use the model directly. */
export { VphbServer, DEFAULT_LIMITS, type ServerOptions, type HostPort } from './server/server.js';
export { defaultSocketPath } from './wire/socket-path.js';
export { DEFAULT_TOPOLOGY, PHB_MODELS, parseTopology, type TopologySpec, type PhbSpec, type PeSpec } from './hw/topology.js';
export { VphbError, ERRNO, errnoName, type ErrnoName } from './wire/errno.js';
export { OPS, OP_CODES, PROTOCOL_VERSION, type Requests, type Replies, type OpName } from './wire/ops.generated.js';
