/**
 * Prefix of an applied-artifact digest (Hello / Heartbeat `applied_artifacts`) whose live file the
 * agent found no longer as it wrote it: `changed-on-disk:<sha256 of the file now | missing>`. It
 * differs from every revision digest, so the control plane reports CONFIG_DRIFT and re-applies.
 */
export const CHANGED_ON_DISK = 'changed-on-disk:';
