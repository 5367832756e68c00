import { CommandStatus } from '@triad/db';
import { canTransition, countsAsFailedAttempt, statusesBefore, statusForAgentState } from './command-status';

const { PENDING, DELIVERED, RUNNING, SUCCEEDED, FAILED, REFUSED, EXPIRED } = CommandStatus;

describe('command status transitions', () => {
  it('moves forward through delivery, running and an outcome', () => {
    expect(canTransition(PENDING, DELIVERED)).toBe(true);
    expect(canTransition(DELIVERED, RUNNING)).toBe(true);
    expect(canTransition(RUNNING, SUCCEEDED)).toBe(true);
    expect(canTransition(PENDING, RUNNING)).toBe(true); // RECEIVED may be lost or overtaken
    expect(canTransition(PENDING, REFUSED)).toBe(true);
  });

  it('ignores a late RECEIVED or RUNNING after the command finished', () => {
    for (const done of [SUCCEEDED, FAILED, REFUSED, EXPIRED]) {
      expect(canTransition(done, DELIVERED)).toBe(false);
      expect(canTransition(done, RUNNING)).toBe(false);
    }
    expect(canTransition(RUNNING, DELIVERED)).toBe(false);
  });

  it('never changes an outcome the agent reported', () => {
    for (const from of [SUCCEEDED, FAILED, REFUSED]) {
      for (const to of [SUCCEEDED, FAILED, REFUSED, EXPIRED]) expect(canTransition(from, to)).toBe(false);
    }
  });

  it('lets an outcome reported by the agent replace EXPIRED, because the agent saw what really happened', () => {
    expect(canTransition(EXPIRED, SUCCEEDED)).toBe(true);
    expect(canTransition(EXPIRED, REFUSED)).toBe(true);
    expect(canTransition(EXPIRED, EXPIRED)).toBe(false);
  });

  it('expires only commands without an outcome', () => {
    expect(statusesBefore(EXPIRED).sort()).toEqual([DELIVERED, PENDING, RUNNING].sort());
  });

  it('maps agent states to row statuses and ignores an unspecified state', () => {
    expect(statusForAgentState('COMMAND_RECEIVED')).toBe(DELIVERED);
    expect(statusForAgentState('COMMAND_RUNNING')).toBe(RUNNING);
    expect(statusForAgentState('COMMAND_SUCCEEDED')).toBe(SUCCEEDED);
    expect(statusForAgentState('COMMAND_FAILED')).toBe(FAILED);
    expect(statusForAgentState('COMMAND_REFUSED')).toBe(REFUSED);
    expect(statusForAgentState('COMMAND_STATE_UNSPECIFIED')).toBeUndefined();
  });
});

describe('countsAsFailedAttempt', () => {
  it('counts failures and refusals the agent made about the command itself', () => {
    expect(countsAsFailedAttempt({ status: FAILED, reason: null, deliveredAt: new Date() })).toBe(true);
    expect(countsAsFailedAttempt({ status: REFUSED, reason: 'BAD_PARAMS', deliveredAt: new Date() })).toBe(true);
  });

  it('does not count commands that expired before reaching an offline node', () => {
    expect(countsAsFailedAttempt({ status: EXPIRED, reason: null, deliveredAt: null })).toBe(false);
    expect(countsAsFailedAttempt({ status: REFUSED, reason: 'EXPIRED', deliveredAt: new Date() })).toBe(false);
    expect(countsAsFailedAttempt({ status: EXPIRED, reason: null, deliveredAt: new Date() })).toBe(true);
  });

  it('does not count commands still in flight or succeeded', () => {
    for (const status of [PENDING, DELIVERED, RUNNING, SUCCEEDED]) expect(countsAsFailedAttempt({ status, reason: null, deliveredAt: null })).toBe(false);
  });
});
