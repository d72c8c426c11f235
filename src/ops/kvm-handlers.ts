/** Every KVM op handler: VM and tables, device attributes, hcalls, the TCE_PUT_BATCH fast path. */
import type { HandlerMap } from './context.js';
import { hcallHandlers } from './hcalls.js';
import { kvmDeviceHandlers } from './kvm-device.js';
import { kvmVmHandlers } from './kvm-vm.js';
import { tceBatchHandlers } from './tce-batch.js';

export const kvmHandlers: HandlerMap = {
  ...kvmVmHandlers,
  ...kvmDeviceHandlers,
  ...hcallHandlers,
  ...tceBatchHandlers,
};
