import type { ValueTransformer } from 'typeorm';

/**
 * pg returns int8 as a string. Our bigint counters (fencing generations) stay far below 2^53, so
 * they are read back as numbers; anything beyond that is a bug worth failing loudly on.
 */
export const bigintAsNumber: ValueTransformer = {
  to: (value: number | null | undefined) => value,
  from: (value: string | null) => {
    if (value === null || value === undefined) return value;
    const n = Number(value);
    if (!Number.isSafeInteger(n)) throw new Error(`bigint ${value} exceeds Number.MAX_SAFE_INTEGER`);
    return n;
  },
};
