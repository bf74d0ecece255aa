import { z } from "zod";
import { parseTimeLocal } from "./time";

/**
 * The three Sundaya device datasets as `POST /devices/dataset/:dataset` receives them
 * (reference/monitoring.md "Field rules"): unknown keys and empty strings are refused,
 * arrays have the documented sizes, and every message says what the bound is.
 */
export const DATASETS = ["pms", "mppt", "inverter"] as const;
export type Dataset = (typeof DATASETS)[number];
export const isDataset = (value: string): value is Dataset => (DATASETS as readonly string[]).includes(value);

/** The field naming each dataset's device (`pms_id`, `mppt_id`, `inverter_id`). */
export const DEVICE_ID_FIELD = { pms: "pms_id", mppt: "mppt_id", inverter: "inverter_id" } as const satisfies Record<Dataset, string>;

/** Ids become URL path segments and broker keys: printable, no separators that need escaping. */
export const DEVICE_ID_PATTERN = /^[A-Za-z0-9._:-]{1,64}$/;

const required = (what: string) => (iss: { input?: unknown }) => (iss.input === undefined ? "is required" : `must be ${what}`);

const num = () => z.number({ error: required("a number") });
const positive = () => num().gt(0, "must be > 0");
const nonNegative = () => num().min(0, "must be ≥ 0");
const sizeMessage = (min: number, max: number) => (min === max ? `must have exactly ${min} items` : `must have ${min}–${max} items`);
const array = <T extends z.ZodType>(item: T, min: number, max: number) =>
  z.array(item, { error: required("an array") }).min(min, sizeMessage(min, max)).max(max, sizeMessage(min, max));
const obj = <T extends z.ZodRawShape>(shape: T) => z.strictObject(shape, { error: required("an object") });
const text = () => z.string({ error: required("a string") }).min(1, "must not be empty");

export const deviceIdSchema = text().max(64, "must be at most 64 characters").regex(DEVICE_ID_PATTERN, "may contain only letters, digits, '.', '_', ':' and '-'");

/** Unique ordinal numbers 1…`n` (open cells, open FETs), at most `n` of them. */
const ordinals = (n: number) =>
  z
    .array(num().int("must be an integer").min(1, "must be ≥ 1").max(n, `must be ≤ ${n}`), { error: required("an array") })
    .max(n, `must have at most ${n} items`)
    .refine((xs) => new Set(xs).size === xs.length, "must not repeat a number");

export const timeLocalSchema = z.string({ error: required("a string") }).superRefine((value, ctx) => {
  const parsed = parseTimeLocal(value);
  if ("error" in parsed) ctx.addIssue({ code: "custom", message: parsed.error });
});

export const statusCodeSchema = z.string({ error: required("a string") }).regex(/^[0-9A-Fa-f]{4}$/, "must be exactly 4 hex characters");

/** Readings with a count per PV string / load / phase: amps (and pf) must pair with volts. */
const paired = <T extends { volts: number[] }>(keys: (keyof T & string)[]) => (value: T, ctx: z.RefinementCtx) => {
  for (const key of keys) {
    const list = value[key] as unknown as number[];
    if (list.length !== value.volts.length) ctx.addIssue({ code: "custom", path: [key], message: `must have as many items as volts (${value.volts.length})` });
  }
};

export const pmsItemSchema = obj({
  time_local: timeLocalSchema,
  pack: obj({
    id: text().max(64, "must be at most 64 characters").regex(DEVICE_ID_PATTERN, "may contain only letters, digits, '.', '_', ':' and '-'"),
    dock: num().int("must be an integer").min(1, "must be ≥ 1").max(48, "must be ≤ 48"),
    amps: num(),
    temp: array(positive(), 3, 3),
    cell: obj({ open: ordinals(14), volts: array(positive(), 14, 14) }),
    fet: obj({ open: ordinals(2), temp: array(positive(), 2, 2) }),
  }),
});

const pvSchema = obj({ volts: array(nonNegative(), 1, 4), amps: array(nonNegative(), 1, 4) }).superRefine(paired(["amps"]));
const batterySchema = obj({ volts: nonNegative(), amps: num() });
const loadSchema = obj({ volts: array(nonNegative(), 1, 2), amps: array(nonNegative(), 1, 2) }).superRefine(paired(["amps"]));
const gridSchema = obj({
  volts: array(positive(), 1, 3),
  amps: array(num(), 1, 3),
  pf: array(num().gt(0, "must be > 0").max(1, "must be ≤ 1"), 1, 3),
}).superRefine(paired(["amps", "pf"]));

export const mpptItemSchema = obj({ time_local: timeLocalSchema, pv: pvSchema, battery: batterySchema, load: loadSchema });
export const inverterItemSchema = obj({ time_local: timeLocalSchema, pv: pvSchema, battery: batterySchema, load: loadSchema, grid: gridSchema });

export const pmsStatusSchema = obj({ code: statusCodeSchema, temp: positive() });
export const codeStatusSchema = obj({ code: statusCodeSchema });

/** A dataset's header with its items left unchecked: items are validated one by one (batch rule). */
export const datasetHeaderSchemas = {
  pms: obj({ pms_id: deviceIdSchema, status: pmsStatusSchema, data: z.array(z.unknown(), { error: required("an array") }).min(1, "must have at least 1 item") }),
  mppt: obj({ mppt_id: deviceIdSchema, status: codeStatusSchema, data: z.array(z.unknown(), { error: required("an array") }).min(1, "must have at least 1 item") }),
  inverter: obj({ inverter_id: deviceIdSchema, status: codeStatusSchema, data: z.array(z.unknown(), { error: required("an array") }).min(1, "must have at least 1 item") }),
} as const;

export const datasetItemSchemas = { pms: pmsItemSchema, mppt: mpptItemSchema, inverter: inverterItemSchema } as const;

export type PmsItem = z.infer<typeof pmsItemSchema>;
export type MpptItem = z.infer<typeof mpptItemSchema>;
export type InverterItem = z.infer<typeof inverterItemSchema>;
export type PmsDataset = { pms_id: string; status: { code: string; temp: number }; data: PmsItem[] };
export type MpptDataset = { mppt_id: string; status: { code: string }; data: MpptItem[] };
export type InverterDataset = { inverter_id: string; status: { code: string }; data: InverterItem[] };
export type DatasetBody = { pms: PmsDataset; mppt: MpptDataset; inverter: InverterDataset };

/** Whole datasets (header and items), for senders that want to check a body before posting. */
export const datasetSchemas = {
  pms: datasetHeaderSchemas.pms.extend({ data: z.array(pmsItemSchema).min(1, "must have at least 1 item") }),
  mppt: datasetHeaderSchemas.mppt.extend({ data: z.array(mpptItemSchema).min(1, "must have at least 1 item") }),
  inverter: datasetHeaderSchemas.inverter.extend({ data: z.array(inverterItemSchema).min(1, "must have at least 1 item") }),
} as const;

export const requestBodySchema = obj({ datasets: z.array(z.unknown(), { error: required("an array") }).min(1, "must have at least 1 dataset") });

/** The success body of an asynchronous POST (Sundaya's documented shape). */
export type QueuedResponse = { status: "200"; message: "ok"; details: { message: string; target: string }[] };
export type CreatedResponse = { status: "201"; message: "Created"; details: { message: string; target: string }[] };
