/**
 * Error kinds a GraphQL client sees in `extensions.code`. Domain modules throw their own
 * exception classes (a module code enum mapped to one of these kinds by an exhaustive record);
 * `GraphqlExceptionFilter` turns them into GraphQL errors in one place.
 */
export enum ErrorKind {
  NOT_FOUND = 'NOT_FOUND',
  CONFLICT = 'CONFLICT',
  FORBIDDEN = 'FORBIDDEN',
  BAD_USER_INPUT = 'BAD_USER_INPUT',
  UNAUTHENTICATED = 'UNAUTHENTICATED',
  INTERNAL = 'INTERNAL',
}

/** A problem with one input field; `field` is a dotted path into the argument (`spec.nodes.0.name`). */
export interface FieldProblem {
  field: string;
  code: string;
  message: string;
}

/** Extra, client-safe facts about an error; they become `extensions` keys. */
export interface ErrorDetails {
  field?: string;
  problems?: FieldProblem[];
  [key: string]: unknown;
}

/**
 * Base of every domain exception. `code` is the module's own code (e.g. `CLUSTER_NOT_FOUND`,
 * shown as `extensions.reason`); `kind` is what clients branch on.
 */
export abstract class TriadException<Code extends string = string> extends Error {
  abstract readonly kind: ErrorKind;

  constructor(
    message: string,
    readonly code: Code,
    readonly details: ErrorDetails = {},
  ) {
    super(message);
    this.name = new.target.name;
  }
}

/**
 * Declares a module exception class from its code → kind table. A `Record` over the enum makes a
 * new code without a kind a compile error.
 */
export function defineException<Code extends string>(name: string, kinds: Record<Code, ErrorKind>) {
  const cls = class extends TriadException<Code> {
    get kind(): ErrorKind {
      return kinds[this.code];
    }
  };
  Object.defineProperty(cls, 'name', { value: name });
  return cls;
}
