import { TRPCClientError } from "@trpc/client";

/** One invalid field as the server reports it (`data.fields`, see server/trpc/init.ts). */
export type FieldIssue = { path: string; message: string };

const capitalize = (s: string) => s[0]!.toUpperCase() + s.slice(1);

const sentence = (text: string) => {
  const t = text.trim();
  if (!t) return t;
  const capital = capitalize(t);
  return /[.!?…]$/.test(capital) ? capital : `${capital}.`;
};

/**
 * A validation message in words a person would use. zod's defaults ("Invalid input:
 * expected string, received undefined") and the server's short custom messages
 * ("at least 10 characters") both become sentences; `label` names the field where a
 * sentence needs it ("Name is required.").
 */
export const humanizeMessage = (message: string, label?: string): string => {
  const subject = label ?? "This field";
  const m = message.trim();
  let match: RegExpMatchArray | null;

  if (/^(required|invalid input: expected \w+, received (undefined|null))$/i.test(m)) return `${subject} is required.`;
  if ((match = m.match(/^Invalid input: expected (\w+), received (\w+)$/))) {
    const [, expected, received] = match;
    if (expected === "int") return "Enter a whole number.";
    if (expected === "number" || received === "NaN") return "Enter a number.";
    if (expected === "date") return "Enter a valid date and time.";
    if (expected === "boolean") return "Choose yes or no.";
    if (expected === "array") return "Choose one or more.";
    return `${subject} is not valid.`;
  }
  if ((match = m.match(/^Too small: expected string to have >=?(\d+) characters?$/))) {
    const n = Number(match[1]);
    return n <= 1 ? `${subject} is required.` : `Use at least ${n} characters.`;
  }
  if ((match = m.match(/^Too big: expected string to have <=?(\d+) characters?$/))) return `Use at most ${match[1]} characters.`;
  if ((match = m.match(/^Too small: expected (?:number|int) to be (>=?)(-?[\d.]+)$/))) return match[1] === ">" ? `Enter more than ${match[2]}.` : `Enter ${match[2]} or more.`;
  if ((match = m.match(/^Too big: expected (?:number|int) to be (<=?)(-?[\d.]+)$/))) return match[1] === "<" ? `Enter less than ${match[2]}.` : `Enter ${match[2]} or less.`;
  if ((match = m.match(/^Too small: expected array to have >=?(\d+) items?$/))) {
    const n = Number(match[1]);
    return `Choose at least ${n === 1 ? "one" : n}.`;
  }
  if ((match = m.match(/^Too big: expected array to have <=?(\d+) items?$/))) return `Choose at most ${match[1]}.`;
  if ((match = m.match(/^at (least|most) (\d+) characters?$/i))) return `Use at ${match[1]!.toLowerCase()} ${match[2]} characters.`;
  if ((match = m.match(/^'(\w+)' must be (before|after) '(\w+)'$/))) return `“${capitalize(match[1]!)}” must be ${match[2]} “${capitalize(match[3]!)}”.`;
  if (/^(Invalid email( address)?|not a valid email( address)?)$/i.test(m)) return "Enter a valid email address, like name@example.com.";
  if ((match = m.match(/^Invalid option: expected one of (.+)$/))) {
    const options = match[1]!.split("|").map((o) => o.replace(/^"|"$/g, ""));
    return `Choose one of: ${options.join(", ")}.`;
  }
  if ((match = m.match(/^Invalid input: expected "(.*)"$/))) return `Must be “${match[1]}”.`;
  if (/^Invalid (UUID|string: must match pattern .*|format|url|URL)$/.test(m) || /^Invalid input$/.test(m)) return `${subject} is not in the expected format.`;
  return sentence(m);
};

/** The invalid fields a BAD_REQUEST carries, or none. */
export const fieldIssues = (error: unknown): FieldIssue[] => {
  if (!(error instanceof TRPCClientError)) return [];
  const fields = (error.data as { fields?: FieldIssue[] | null } | undefined)?.fields;
  return Array.isArray(fields) ? fields : [];
};

const codeOf = (error: unknown) => (error instanceof TRPCClientError ? (error.data?.code as string | undefined) : undefined);

/**
 * The message to show for a failed call, never a raw code or a JSON dump: the server's own
 * words when it has them (AppError messages are written for people), else a plain sentence.
 */
export const errorMessage = (error: unknown, fallback = "Something went wrong. Try again."): string => {
  if (!error) return fallback;
  const code = codeOf(error);
  if (code === "FORBIDDEN") return "Your role may not do this. Ask an admin if you need it.";
  if (code === "UNAUTHORIZED") return "Your session has ended. Sign in again.";
  const issues = fieldIssues(error);
  if (issues.length) return issues.map((i) => humanizeMessage(i.message)).join(" ");
  if (error instanceof Error) {
    const message = error.message;
    if (/failed to fetch|networkerror|load failed|fetch failed/i.test(message)) return "Could not reach the console. Check your connection and try again.";
    if (message && !message.startsWith("[") && !message.startsWith("{")) return sentence(message);
  }
  return fallback;
};

export const isForbidden = (error: unknown) => codeOf(error) === "FORBIDDEN";

export type FormErrors = {
  /** One sentence per field the form shows, keyed by the field's name. */
  byField: Record<string, string>;
  /** Everything that has no field on the form, for the banner above it. */
  other: string[];
};

/**
 * A failed call's messages placed on the form: `labels` maps each field the form shows
 * (its path in the input, e.g. "email" or "filter.from") to its label. "regions.0" counts
 * for "regions". `client` holds checks the form made itself and wins over the server.
 */
export const formErrors = (error: unknown, labels: Record<string, string>, client: Record<string, string> = {}): FormErrors => {
  const byField: Record<string, string> = {};
  const other: string[] = [];
  for (const [name, message] of Object.entries(client)) byField[name] = humanizeMessage(message, labels[name]);
  const issues = fieldIssues(error);
  for (const { path, message } of issues) {
    const name = Object.keys(labels).find((key) => path === key || path.startsWith(`${key}.`));
    if (name) byField[name] ??= humanizeMessage(message, labels[name]);
    else other.push(humanizeMessage(message));
  }
  if (error && issues.length === 0) other.push(errorMessage(error));
  return { byField, other };
};
