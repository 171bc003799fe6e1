import type { OriginPolicy } from '../../config/schema';
import { HashPicker } from './hash';
import { LeastOutstandingPicker } from './least-outstanding';
import type { OriginPickerFactory } from './origin-picker';
import { RandomPicker } from './random';
import { RoundRobinPicker } from './round-robin';

export type { OriginPicker, OriginPickerFactory, OriginSet, PickContext } from './origin-picker';

/** The origin steering policies of SPEC §2.8, by name. */
export const ORIGIN_PICKERS: Readonly<Record<OriginPolicy, OriginPickerFactory>> = {
  round_robin: (set) => new RoundRobinPicker(set),
  random: (set) => new RandomPicker(set),
  hash: (set) => new HashPicker(set),
  least_outstanding_requests: (set) => new LeastOutstandingPicker(set),
};
