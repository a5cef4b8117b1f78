/** Machine statuses and kinds as the console shows them (values mirror @canopy/core's enums). */
import type { MachineView } from '../../types.ts';

export const STATUSES: readonly MachineView['status'][] = ['installing', 'online', 'offline', 'maintenance', 'retired'];
export const KINDS: readonly MachineView['kind'][] = ['physical', 'vm'];

/** Tag colour per status. */
export const STATUS_COLOR: Record<MachineView['status'], string> = {
  installing: 'processing',
  online: 'success',
  offline: 'error',
  maintenance: 'warning',
  retired: 'default',
};
