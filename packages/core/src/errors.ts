/** Domain errors: stable codes, typed fields, no HTTP. The server maps codes to statuses in one place. */

export const ERROR_CODES = [
  'validation_failed',
  'not_found',
  'moved',
  'conflict',
  'precondition_failed',
  'forbidden',
  'unauthenticated',
  'rate_limited',
  'payload_too_large',
  'unsupported_media_type',
  'config_invalid',
  'unavailable',
  'internal',
] as const;

export type ErrorCode = (typeof ERROR_CODES)[number];

/** One problem with one input field; `path` is the field's location, e.g. `["ports", 0, "port"]`. */
export interface FieldIssue {
  path: (string | number)[];
  message: string;
}

/** Base of every error Canopy raises on purpose. */
export class CanopyError extends Error {
  readonly code: ErrorCode;
  readonly details: Record<string, unknown>;
  constructor(code: ErrorCode, message: string, details: Record<string, unknown> = {}) {
    super(message);
    this.name = new.target.name;
    this.code = code;
    this.details = details;
  }
}

/** Input that breaks a rule; `issues` says which fields and why. */
export class ValidationError extends CanopyError {
  readonly issues: FieldIssue[];
  constructor(message: string, issues: FieldIssue[] = []) {
    super('validation_failed', message, { issues });
    this.issues = issues;
  }
}

/** A named thing does not exist (or the caller may not see it). */
export class NotFoundError extends CanopyError {
  constructor(kind: string, key: string) {
    super('not_found', `${kind} '${key}' not found`, { kind, key });
  }
}

/**
 * A path that named a node before a rename or move: `movedTo` is where that node is now. Raised only
 * when the caller may see the node's new place, so it reveals nothing a listing would not.
 */
export class MovedError extends CanopyError {
  readonly movedTo: string;
  constructor(kind: string, key: string, movedTo: string) {
    super('moved', `${kind} '${key}' moved to '${movedTo}'`, { kind, key, movedTo });
    this.movedTo = movedTo;
  }
}

/** The request is well-formed but clashes with the current state. */
export class ConflictError extends CanopyError {
  constructor(message: string, details: Record<string, unknown> = {}) {
    super('conflict', message, details);
  }
}

/** An If-Match precondition did not hold. */
export class PreconditionFailedError extends CanopyError {
  constructor(expected: string, actual: string) {
    super('precondition_failed', `resource changed: If-Match ${expected} does not match ${actual}`, { expected, actual });
  }
}

/** The caller is known but lacks the operation on the node. */
export class ForbiddenError extends CanopyError {
  constructor(operation: string, target: string) {
    super('forbidden', `not allowed: ${operation} on ${target}`, { operation, target });
  }
}

/** No valid credentials were presented. */
export class UnauthenticatedError extends CanopyError {
  constructor(message = 'authentication required') {
    super('unauthenticated', message);
  }
}

/** A generated configuration was rejected by the program that will run it. */
export class ConfigInvalidError extends CanopyError {
  constructor(program: string, output: string) {
    super('config_invalid', `${program} rejected the generated configuration`, { program, output });
  }
}
