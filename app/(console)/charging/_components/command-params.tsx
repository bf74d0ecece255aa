"use client";

import { useId } from "react";
import { COMMAND_LABELS, TRIGGER_MESSAGES, ZCommandSpec, type CommandSpec } from "@/contracts/csms/commands";
import type { CommandAction } from "@/contracts/csms";

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

/** Form text → the action's params, checked with the server's own schema. */
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
    errors[key] ??= issue.message;
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
  const uid = useId();
  const fields = PARAM_FIELDS[action].filter((f) => !exclude.includes(f.name));
  if (fields.length === 0) return <p className="muted">{COMMAND_LABELS[action]} takes no parameters.</p>;
  return (
    <div className="form-grid">
      {fields.map((f) => {
        const id = `${uid}-${f.name}`;
        const set = (v: string) => onChange({ ...value, [f.name]: v });
        return (
          <div className="field" key={f.name}>
            <label htmlFor={id}>
              {f.label}
              {f.optional ? <span className="muted"> (optional)</span> : null}
            </label>
            {f.kind === "select" || f.kind === "bool" ? (
              <select id={id} className="select" value={value[f.name] ?? ""} onChange={(e) => set(e.target.value)} data-testid={`param-${f.name}`}>
                {(f.kind === "bool" ? ["true", "false"] : f.options!).map((o) => (
                  <option key={o} value={o}>
                    {f.kind === "bool" ? (o === "true" ? "Yes (Operative)" : "No (Inoperative)") : o}
                  </option>
                ))}
              </select>
            ) : (
              <input
                id={id}
                className="input"
                inputMode={f.kind === "int" || f.kind === "number" ? "numeric" : undefined}
                value={value[f.name] ?? ""}
                onChange={(e) => set(e.target.value)}
                aria-invalid={errors[f.name] ? true : undefined}
                data-testid={`param-${f.name}`}
              />
            )}
            {errors[f.name] ? <span className="field-error">{errors[f.name]}</span> : f.hint ? <span className="hint">{f.hint}</span> : null}
          </div>
        );
      })}
      {errors._ ? <span className="field-error span-2">{errors._}</span> : null}
    </div>
  );
};
