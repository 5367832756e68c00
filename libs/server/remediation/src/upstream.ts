/**
 * What remediation reads of contract A (findings, @triad/health) and calls of contract B (node
 * actions, @triad/commands), in one place.
 */
import type { NodeActionService } from '@triad/commands';
import type { FindingCode, FindingOwner } from '@triad/health';

export type { FindingCode, FindingOwner } from '@triad/health';
export type { NodeActionName, NodeActionResult } from '@triad/commands';
export { NODE_ACTION_NAMES } from '@triad/protocol';

/** An open finding as remediation sees it (a row of contract A's `findings` table). */
export interface FindingView {
  key: string;
  code: FindingCode;
  severity: 'WARNING' | 'CRITICAL';
  nodeName: string | null;
  subject: string | null;
  owner: FindingOwner;
  detail: Record<string, unknown>;
  firstSeenAt: Date;
}

/** The one method of NodeActionService remediation calls. */
export type NodeActions = Pick<NodeActionService, 'run'>;
