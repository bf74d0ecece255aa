import "server-only";

/** An invalid field as an upstream names it in its `{ error, message, fields }` answer. */
export type UpstreamField = { path: string; message: string };

/** Who the error came from: the metrics label, the name people read, and where it was asked. */
export type UpstreamName = { upstream: string; label: string; url: string };

/** What every upstream failure says about where it happened. */
export abstract class UpstreamError extends Error {
  readonly upstream: string;
  readonly label: string;
  readonly url: string;

  constructor({ upstream, label, url }: UpstreamName, message: string) {
    super(message);
    this.name = new.target.name;
    this.upstream = upstream;
    this.label = label;
    this.url = url;
  }
}

/** The upstream answered, with an error status (its `{ error, message, fields }` shape when it gave one). */
export class UpstreamHttpError extends UpstreamError {
  readonly status: number;
  readonly code: string;
  readonly fields: UpstreamField[];
  /** Which setting holds the credentials the upstream refused, for a 401/403. */
  readonly credentialsHint?: string;

  constructor({ status, code, message, fields = [], credentialsHint, ...name }: UpstreamName & { status: number; code: string; message: string; fields?: UpstreamField[]; credentialsHint?: string }) {
    super(name, message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.credentialsHint = credentialsHint;
  }
}

/** Nobody answered: connection refused or reset, DNS, or no answer in time. `reason` says which, in words. */
export class UpstreamUnreachableError extends UpstreamError {
  readonly reason: string;

  constructor({ reason, ...name }: UpstreamName & { reason: string }) {
    super(name, `${name.label} unreachable at ${name.url}: ${reason}`);
    this.reason = reason;
  }
}

/**
 * The upstream answered 2xx with a body that breaks its contract (contracts/<upstream>/).
 * Nothing of it was applied; it was counted and logged where it was caught.
 */
export class UpstreamContractError extends UpstreamError {
  /** The call or event that broke the contract, e.g. `GET /api/v0/stations/:id`. */
  readonly what: string;
  /** The first few problems, `path: message`. */
  readonly issues: string[];

  constructor({ what, issues, ...name }: UpstreamName & { what: string; issues: string[] }) {
    super(name, `${name.label} broke its contract on ${what}: ${issues.join("; ")}`);
    this.what = what;
    this.issues = issues;
  }
}
