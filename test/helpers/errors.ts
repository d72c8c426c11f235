/** Assertions on model calls that are expected to fail with a VphbError. */
import { VphbError } from '../../src/wire/errno.js';

/** The errno name a call fails with, or 'ok'. Anything thrown but a VphbError is a test failure. */
export function errno(fn: () => unknown): string {
  try {
    fn();
  } catch (e) {
    if (e instanceof VphbError) return e.code;
    throw e;
  }
  return 'ok';
}

/** The VphbError a call fails with. */
export function failure(fn: () => unknown): VphbError {
  try {
    fn();
  } catch (e) {
    if (e instanceof VphbError) return e;
    throw e;
  }
  throw new Error('expected the call to fail');
}
