"use client";

import { useId } from "react";
import type { CommandAction, ProtocolVersion } from "@/contracts/csms";
import { COMMAND_LABELS } from "@/contracts/csms/commands";
import { Field, Select, toOptions, type ControlProps } from "../../_components/ui/field";
import { paramFields, suggestionsFor, type FieldDef, type ParamState, type StationCatalogue } from "./command-form";

export { actionLabel, buildSpec, initialParams, paramFields, type ParamState, type StationCatalogue } from "./command-form";

/** A text input that offers what the station reported (a native datalist: type to narrow, arrows to pick). */
const SuggestInput = ({ control, value, onValue, suggestions, name }: { control: ControlProps; value: string; onValue: (v: string) => void; suggestions: string[]; name: string }) => {
  const listId = `${useId()}-list`;
  return (
    <>
      <input
        {...control}
        className="input"
        value={value}
        onChange={(e) => onValue(e.target.value)}
        list={suggestions.length ? listId : undefined}
        autoComplete="off"
        spellCheck={false}
        data-testid={`param-${name}`}
      />
      {suggestions.length ? (
        <datalist id={listId}>
          {suggestions.map((s) => (
            <option key={s} value={s} />
          ))}
        </datalist>
      ) : null}
    </>
  );
};

/**
 * Keys to read: chosen from what the station reported (a multi-select: Space or Ctrl/Shift
 * with the arrows, or click) plus any typed by hand, comma separated.
 */
const KeysInput = ({ control, value, onValue, suggestions }: { control: ControlProps; value: string; onValue: (v: string) => void; suggestions: string[] }) => {
  const chosen = value
    .split(",")
    .map((s) => s.trim())
    .filter(Boolean);
  const known = new Set(suggestions);
  const typed = chosen.filter((k) => !known.has(k));
  const set = (picked: string[], extra: string[]) => onValue([...picked, ...extra].join(", "));
  if (suggestions.length === 0)
    return <input {...control} className="input" value={value} onChange={(e) => onValue(e.target.value)} placeholder="HeartbeatInterval, MeterValueSampleInterval" data-testid="param-keys" />;
  return (
    <>
      <select
        {...control}
        multiple
        size={Math.min(8, suggestions.length)}
        className="select"
        value={chosen.filter((k) => known.has(k))}
        onChange={(e) =>
          set(
            [...e.target.selectedOptions].map((o) => o.value),
            typed,
          )
        }
        data-testid="param-keys"
      >
        {suggestions.map((k) => (
          <option key={k} value={k}>
            {k}
          </option>
        ))}
      </select>
      <input
        className="input"
        aria-label="Other keys, comma separated"
        placeholder="Other keys, comma separated"
        value={typed.join(", ")}
        onChange={(e) =>
          set(
            chosen.filter((k) => known.has(k)),
            e.target.value.split(",").map((s) => s.trim()),
          )
        }
        style={{ marginTop: 6 }}
        data-testid="param-keys-other"
      />
    </>
  );
};

const Control = ({ f, control, value, onValue, catalogue }: { f: FieldDef; control: ControlProps; value: string; onValue: (v: string) => void; catalogue: StationCatalogue }) => {
  if (f.kind === "select" || f.kind === "bool")
    return (
      <Select
        {...control}
        value={value}
        onValue={onValue}
        options={f.kind === "bool" ? [{ value: "true", label: "Yes (Operative)" }, { value: "false", label: "No (Inoperative)" }] : toOptions(f.options!)}
        data-testid={`param-${f.name}`}
      />
    );
  if (f.kind === "keys") return <KeysInput control={control} value={value} onValue={onValue} suggestions={suggestionsFor(f, catalogue)} />;
  if (f.kind === "text") return <SuggestInput control={control} value={value} onValue={onValue} suggestions={suggestionsFor(f, catalogue)} name={f.name} />;
  return <input {...control} className="input" inputMode={f.kind === "int" ? "numeric" : "decimal"} value={value} onChange={(e) => onValue(e.target.value)} data-testid={`param-${f.name}`} />;
};

/** The fields of one command for a station of `catalogue.protocol` (every field when unknown), with their errors. */
export const CommandParamsFields = ({
  action,
  value,
  onChange,
  errors = {},
  catalogue = {},
}: {
  action: CommandAction;
  value: ParamState;
  onChange: (next: ParamState) => void;
  errors?: Record<string, string>;
  catalogue?: StationCatalogue & { protocol?: ProtocolVersion | null };
}) => {
  const fields = paramFields(action, catalogue.protocol);
  if (fields.length === 0) return <p className="muted">{COMMAND_LABELS[action]} takes no parameters.</p>;
  return (
    <div className="form-grid">
      {fields.map((f) => (
        <Field
          key={f.name}
          label={
            <>
              {f.label}
              {f.optional ? <span className="muted"> (optional)</span> : null}
            </>
          }
          error={errors[f.name]}
          hint={f.hint}
          name={f.name}
          className={f.kind === "keys" ? "span-2" : undefined}
        >
          {(control) => <Control f={f} control={control} value={value[f.name] ?? ""} onValue={(v) => onChange({ ...value, [f.name]: v })} catalogue={catalogue} />}
        </Field>
      ))}
      {errors._ ? (
        <span className="field-error span-2" role="alert">
          {errors._}
        </span>
      ) : null}
    </div>
  );
};
