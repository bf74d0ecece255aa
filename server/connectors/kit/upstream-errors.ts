import "server-only";

/** An invalid field as an upstream names it in its `{ error, message, fields }` answer. */
export type UpstreamField = { path: string; message: string };

/** Who the error came from: the metrics label, the name people read, and where it was asked. */
export type UpstreamName = { upstream: string; label: string; url: string };

// Next bundles instrumentation.ts (where connectors start, so where their clients throw)
// apart from each route handler, each with its own copy of these classes: a plain
// `instanceof` across the two is false, and an unknown station became a 500. The kind
// travels on the error under a registry symbol, which every copy shares.
const KIND = Symbol.for("switchyard.upstream-error.kind");
type Kind = "http" | "unreachable" | "contract";

/** What every upstream failure says about where it happened. `instanceof` works across bundles. */
export abstract class UpstreamError extends Error {
  readonly upstream: string;
  readonly label: string;
  readonly url: string;
  readonly [KIND]: Kind;

  constructor(kind: Kind, { upstream, label, url }: UpstreamName, message: string) {
    super(message);
    this.name = new.target.name;
    this[KIND] = kind;
    this.upstream = upstream;
    this.label = label;
    this.url = url;
  }

  /** Which kind of error the class stands for (undefined: any upstream error). */
  static readonly kind: Kind | undefined = undefined;

  static [Symbol.hasInstance](value: unknown) {
    if (typeof value !== "object" || value === null || !(KIND in value)) return false;
    return this.kind === undefined || (value as { [KIND]: Kind })[KIND] === this.kind;
  }
}

/** The upstream answered, with an error status (its `{ error, message, fields }` shape when it gave one). */
export class UpstreamHttpError extends UpstreamError {
  static override readonly kind = "http";
  readonly status: number;
  readonly code: string;
  readonly fields: UpstreamField[];
  /** Which setting holds the credentials the upstream refused, for a 401/403. */
  readonly credentialsHint?: string;

  constructor({ status, code, message, fields = [], credentialsHint, ...name }: UpstreamName & { status: number; code: string; message: string; fields?: UpstreamField[]; credentialsHint?: string }) {
    super("http", name, message);
    this.status = status;
    this.code = code;
    this.fields = fields;
    this.credentialsHint = credentialsHint;
  }
}

/** Nobody answered: connection refused or reset, DNS, or no answer in time. `reason` says which, in words. */
export class UpstreamUnreachableError extends UpstreamError {
  static override readonly kind = "unreachable";
  readonly reason: string;

  constructor({ reason, ...name }: UpstreamName & { reason: string }) {
    super("unreachable", name, `${name.label} unreachable at ${name.url}: ${reason}`);
    this.reason = reason;
  }
}

/**
 * The upstream answered 2xx with a body that breaks its contract (contracts/<upstream>/).
 * Nothing of it was applied; it was counted and logged where it was caught.
 */
export class UpstreamContractError extends UpstreamError {
  static override readonly kind = "contract";
  /** The call or event that broke the contract, e.g. `GET /api/v0/stations/:id`. */
  readonly what: string;
  /** The first few problems, `path: message`. */
  readonly issues: string[];

  constructor({ what, issues, ...name }: UpstreamName & { what: string; issues: string[] }) {
    super("contract", name, `${name.label} broke its contract on ${what}: ${issues.join("; ")}`);
    this.what = what;
    this.issues = issues;
  }
}
