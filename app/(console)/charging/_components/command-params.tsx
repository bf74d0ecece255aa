"use client";

import { COMMAND_LABELS, TRIGGER_MESSAGES, ZCommandSpec, type CommandSpec } from "@/contracts/csms/commands";
import type { CommandAction } from "@/contracts/csms";
import { Field, Select, toOptions } from "../../_components/ui/field";
import { humanizeMessage } from "../../_components/ui/messages";

type FieldDef = { name: string; label: string; kind: "int" | "number" | "text" | "list" | "select" | "bool"; optional?: boolean; options?: readonly string[]; hint?: string };

const connector: FieldDef = { name: "connectorId", label: "Connector id", kind: "int", optional: true };
const evse: FieldDef = { name: "evseId", label: "EVSE id", kind: "int", optional: true, hint: "OCPP 2.0.1" };

export const PARAM_FIELDS: Record<CommandAction, FieldDef[]> = {
  remoteStart: [connector, evse, { name: "idTag", label: "Id tag", kind: "text" }],
  remoteStop: [{ name: "transactionId", label: "Transaction id", kind: "text" }],
  reset: [{ name: "type", label: "Type", kind: "select", options: ["soft", "hard"] }],
  unlockConnector: [{ ...connector, optional: false }, evse],
  changeAvailability: [connector, evse, { name: "available", label: "Available", kind: "bool" }],
  triggerMessage: [{ name: "message", label: "Message", kind: "select", options: TRIGGER_MESSAGES }, connector, evse],
  getConfiguration: [{ name: "keys", label: "Keys (comma separated)", kind: "list", optional: true }],
  changeConfiguration: [
    { name: "key", label: "Key (1.6)", kind: "text", optional: true },
    { name: "component", label: "Component (2.0.1)", kind: "text", optional: true },
    { name: "variable", label: "Variable (2.0.1)", kind: "text", optional: true },
    { name: "value", label: "Value", kind: "text" },
  ],
  clearCache: [],
  setChargingProfile: [connector, evse, { name: "limitW", label: "Limit (W)", kind: "number" }],
  getTransactionStatus: [{ name: "transactionId", label: "Transaction id", kind: "text", optional: true }],
};

export type ParamState = Record<string, string>;

export const initialParams = (action: CommandAction): ParamState =>
  Object.fromEntries(PARAM_FIELDS[action].map((f) => [f.name, f.kind === "select" ? f.options![0]! : f.kind === "bool" ? "true" : ""]));

/** Form text → the action's params, checked with the server's own schema; messages are sentences. */
export const buildSpec = (action: CommandAction, state: ParamState): { spec?: CommandSpec; errors: Record<string, string> } => {
  const params: Record<string, unknown> = {};
  for (const f of PARAM_FIELDS[action]) {
    const raw = (state[f.name] ?? "").trim();
    if (raw === "" && f.kind !== "bool") continue;
    if (f.kind === "int" || f.kind === "number") params[f.name] = Number(raw);
    else if (f.kind === "bool") params[f.name] = raw === "true";
    else if (f.kind === "list") params[f.name] = raw.split(",").map((s) => s.trim()).filter(Boolean);
    else params[f.name] = raw;
  }
  const parsed = ZCommandSpec.safeParse({ action, params });
  if (parsed.success) return { spec: parsed.data, errors: {} };
  const errors: Record<string, string> = {};
  for (const issue of parsed.error.issues) {
    const key = issue.path[0] === "params" && issue.path.length > 1 ? String(issue.path[1]) : "_";
    errors[key] ??= humanizeMessage(issue.message, PARAM_FIELDS[action].find((f) => f.name === key)?.label);
  }
  return { errors };
};

export const CommandParamsFields = ({
  action,
  value,
  onChange,
  errors = {},
  exclude = [],
}: {
  action: CommandAction;
  value: ParamState;
  onChange: (next: ParamState) => void;
  errors?: Record<string, string>;
  exclude?: string[];
}) => {
  const fields = PARAM_FIELDS[action].filter((f) => !exclude.includes(f.name));
  if (fields.length === 0) return <p className="muted">{COMMAND_LABELS[action]} takes no parameters.</p>;
  return (
    <div className="form-grid">
      {fields.map((f) => {
        const set = (v: string) => onChange({ ...value, [f.name]: v });
        const label = (
          <>
            {f.label}
            {f.optional ? <span className="muted"> (optional)</span> : null}
          </>
        );
        return (
          <Field key={f.name} label={label} error={errors[f.name]} hint={f.hint} name={f.name}>
            {(control) =>
              f.kind === "select" || f.kind === "bool" ? (
                <Select
                  {...control}
                  value={value[f.name] ?? ""}
                  onValue={set}
                  options={f.kind === "bool" ? [{ value: "true", label: "Yes (Operative)" }, { value: "false", label: "No (Inoperative)" }] : toOptions(f.options!)}
                  data-testid={`param-${f.name}`}
                />
              ) : (
                <input
                  {...control}
                  className="input"
                  inputMode={f.kind === "int" || f.kind === "number" ? "numeric" : undefined}
                  value={value[f.name] ?? ""}
                  onChange={(e) => set(e.target.value)}
                  data-testid={`param-${f.name}`}
                />
              )
            }
          </Field>
        );
      })}
      {errors._ ? (
        <span className="field-error span-2" role="alert">
          {errors._}
        </span>
      ) : null}
    </div>
  );
};
