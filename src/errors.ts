/**
 * Errors a person can act on. Domain code throws these; the API turns them
 * into application/problem+json with the matching status, the CLI prints the
 * message on one line and exits non-zero.
 */
export class FedalignError extends Error {
  /** HTTP status the API answers with. */
  readonly status: number;
  constructor(message: string, status = 500) {
    super(message);
    this.name = new.target.name;
    this.status = status;
  }
}

/** A refusal about one named field of the input (a form shows it beside that field). */
export class FieldError extends FedalignError {
  constructor(
    readonly field: string,
    readonly fieldMessage: string,
    status = 400,
  ) {
    super(`${field}: ${fieldMessage}`, status);
  }
}

export class InvalidInputError extends FedalignError {
  constructor(message: string) {
    super(message, 400);
  }
}

export class UnauthorizedError extends FedalignError {
  constructor(message = "Authentication required: send a personal API token as `Authorization: Bearer <token>`.") {
    super(message, 401);
  }
}

export class ForbiddenError extends FedalignError {
  constructor(message: string) {
    super(message, 403);
  }
}

export class NotFoundError extends FedalignError {
  constructor(message: string) {
    super(message, 404);
  }
}

export class ConflictError extends FedalignError {
  constructor(message: string) {
    super(message, 409);
  }
}

/** A remote server could not be reached or answered something unusable. */
export class RemoteError extends FedalignError {
  constructor(message: string) {
    super(message, 502);
  }
}

/** Too many attempts: `retryAfterSeconds` goes out as the Retry-After header. */
export class TooManyRequestsError extends FedalignError {
  readonly retryAfterSeconds: number;
  constructor(message: string, retryAfterSeconds: number) {
    super(message, 429);
    this.retryAfterSeconds = retryAfterSeconds;
  }
}
