/**
 * VFIO_EEH_PE_OP on a container (vfio_iommu_spapr_tce.c: tce_iommu_ioctl and
 * vfio_spapr_ioctl_eeh_pe_op, on arch/powerpc/kernel/eeh.c): the op is applied to each group of
 * the container in turn and the first non-zero result is the answer. Results ≥ 0 are returned
 * (GET_STATE's state); errors are thrown with their errno.
 */
import { fail } from '../wire/errno.js';
import { EEH_ERR_FUNC_MAX, EEH_ERR_FUNC_MIN, EEH_ERR_TYPE_32, EEH_ERR_TYPE_64, type PeEeh } from '../hw/eeh.js';
import type { Container } from './container.js';

export const VFIO_EEH = 5;
export const VFIO_EEH_PE_DISABLE = 0;
export const VFIO_EEH_PE_ENABLE = 1;
export const VFIO_EEH_PE_UNFREEZE_IO = 2;
export const VFIO_EEH_PE_UNFREEZE_DMA = 3;
export const VFIO_EEH_PE_GET_STATE = 4;
export const VFIO_EEH_PE_RESET_DEACTIVATE = 5;
export const VFIO_EEH_PE_RESET_HOT = 6;
export const VFIO_EEH_PE_RESET_FUNDAMENTAL = 7;
export const VFIO_EEH_PE_CONFIGURE = 8;
export const VFIO_EEH_PE_INJECT_ERR = 9;

export interface EehPeOp {
  flags: number;
  op: number;
  /** vfio_eeh_pe_err, only for INJECT_ERR; undefined fields stand for a short argsz. */
  err: { type: number | undefined; func: number | undefined; addr: bigint | undefined; mask: bigint | undefined };
}

function onePe(eeh: PeEeh, req: EehPeOp): number {
  switch (req.op) {
    case VFIO_EEH_PE_DISABLE: return 0; // eeh_pe_set_option(EEH_OPT_DISABLE) does nothing
    case VFIO_EEH_PE_ENABLE: return eeh.enable();
    case VFIO_EEH_PE_UNFREEZE_IO: return eeh.thawMmio();
    case VFIO_EEH_PE_UNFREEZE_DMA: return eeh.thawDma();
    case VFIO_EEH_PE_GET_STATE: return eeh.state;
    case VFIO_EEH_PE_RESET_DEACTIVATE: return eeh.deactivateReset();
    case VFIO_EEH_PE_RESET_HOT: return eeh.assertReset('hot');
    case VFIO_EEH_PE_RESET_FUNDAMENTAL: return eeh.assertReset('fundamental');
    case VFIO_EEH_PE_CONFIGURE: return 0; // eeh_pe_configure: config was restored at deactivate
    case VFIO_EEH_PE_INJECT_ERR: {
      const { type, func, addr, mask } = req.err;
      if (type === undefined || func === undefined || addr === undefined || mask === undefined) {
        throw fail('EINVAL', 'INJECT_ERR needs the error fields type, func, addr and mask');
      }
      if (type !== EEH_ERR_TYPE_32 && type !== EEH_ERR_TYPE_64) throw fail('EINVAL', `type ${type}: must be 0 (32-bit) or 1 (64-bit)`);
      if (func < EEH_ERR_FUNC_MIN || func > EEH_ERR_FUNC_MAX) throw fail('EINVAL', `func ${func}: must be in ${EEH_ERR_FUNC_MIN}..${EEH_ERR_FUNC_MAX}`);
      return eeh.inject();
    }
    default:
      throw fail('EINVAL', `op ${req.op}: unknown EEH PE operation`);
  }
}

export function eehPeOp(container: Container, req: EehPeOp): number {
  container.backendFor('VFIO_EEH_PE_OP');
  if (req.flags !== 0) throw fail('EINVAL', `flags 0x${req.flags.toString(16)}: must be 0`);
  let ret = 0;
  for (const g of container.groups) {
    ret = onePe(g.pe.eeh, req);
    if (ret !== 0) return ret;
  }
  return ret;
}
