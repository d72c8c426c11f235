/** Every VFIO op handler (issue 3), for the dispatcher's table. */
import type { HandlerMap } from './context.js';
import { vfioContainerHandlers } from './vfio-container.js';
import { vfioDeviceHandlers } from './vfio-device.js';
import { vfioEehHandlers } from './vfio-eeh.js';
import { vfioGroupHandlers } from './vfio-group.js';
import { vfioIommuHandlers } from './vfio-iommu.js';

export const vfioHandlers: HandlerMap = {
  ...vfioContainerHandlers,
  ...vfioGroupHandlers,
  ...vfioIommuHandlers,
  ...vfioDeviceHandlers,
  ...vfioEehHandlers,
};
