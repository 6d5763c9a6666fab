import { PayloadMappingError } from '../../common/errors.js';

/** A deep copy of `base`, changed by `change`: each test builds its variant of a sample payload. */
export function variantOf(base: unknown) {
  return (change: (order: any) => void = () => {}): any => {
    const order = structuredClone(base);
    change(order);
    return order;
  };
}

/** The PayloadMappingError `run` throws (any other outcome fails the test). */
export function thrown(run: () => unknown): PayloadMappingError {
  try {
    run();
  } catch (error) {
    if (error instanceof PayloadMappingError) return error;
    throw error;
  }
  throw new Error('expected a PayloadMappingError, but nothing was thrown');
}
