/**
 * KVM_SET_DEVICE_ATTR on the KVM VFIO device: group 1 (KVM_DEV_VFIO_FILE), attr 1 ADD and 2 DEL
 * (groupfd: a VFIO group or, K13, a VFIO device fd), 3 SET_SPAPR_TCE (groupfd, tablefd). fds are resolved here, in the kernel's order:
 * EBADF for a number that is not an open handle, then the device's own checks.
 */
import {
  KVM_DEV_VFIO_FILE, KVM_DEV_VFIO_FILE_ADD, KVM_DEV_VFIO_FILE_DEL, KVM_DEV_VFIO_FILE_SET_SPAPR_TCE,
} from '../kvm/constants.js';
import { GuestTceTable } from '../kvm/guest-tce-table.js';
import { linkableDevice, linkableGroup } from '../kvm/vfio-adapter.js';
import { KvmVfioDevice } from '../kvm/vfio-device.js';
import { VfioDevice } from '../vfio/device.js';
import { GroupFile } from '../vfio/group.js';
import { fail } from '../wire/errno.js';
import type { HandlerMap, OpContext } from './context.js';
import type { HandleObject } from './handles.js';

function open(ctx: OpContext, fd: number | undefined, field: string): HandleObject {
  if (fd === undefined) throw fail('EINVAL', `${field} is required for this attribute`);
  const obj = ctx.handles.peek(fd);
  if (obj === undefined) throw fail('EBADF', `${field} ${fd} is not an open handle`);
  return obj;
}

export const kvmDeviceHandlers: HandlerMap = {
  KVM_SET_DEVICE_ATTR: (ctx, req) => {
    const device = ctx.handles.get(req.fd, KvmVfioDevice);
    if (req.group !== KVM_DEV_VFIO_FILE) throw fail('ENXIO', `attribute group ${req.group} unknown to the VFIO device`);
    switch (req.attr) {
      case BigInt(KVM_DEV_VFIO_FILE_ADD): {
        const file = open(ctx, req.groupfd, 'groupfd');
        if (file instanceof GroupFile) device.addGroup(linkableGroup(file));
        else if (file instanceof VfioDevice) device.addGroup(linkableDevice(file));
        else throw fail('EINVAL', `groupfd ${req.groupfd} is not a VFIO group or device file`);
        return {};
      }
      case BigInt(KVM_DEV_VFIO_FILE_DEL):
        device.delGroup(open(ctx, req.groupfd, 'groupfd'));
        return {};
      case BigInt(KVM_DEV_VFIO_FILE_SET_SPAPR_TCE): {
        const file = open(ctx, req.groupfd, 'groupfd');
        if (!device.hasGroup(file)) throw fail('ENOENT', `groupfd ${req.groupfd} was not added to the VFIO device`);
        device.checkIommuGroup(file);
        const table = open(ctx, req.tablefd, 'tablefd');
        device.setSpaprTce(file, table instanceof GuestTceTable ? table : undefined);
        return {};
      }
      default:
        throw fail('ENXIO', `attribute ${req.attr} unknown to the VFIO device`);
    }
  },
};
