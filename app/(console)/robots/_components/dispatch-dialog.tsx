"use client";

import { useMutation, useQuery } from "@tanstack/react-query";
import Link from "next/link";
import { useState } from "react";
import { useTRPC } from "@/app/_trpc/client";
import type { CommandView } from "@/contracts/console/commands";
import { newIdempotencyKey } from "../../_components/idempotency";
import { describeCommand } from "../../_components/ui/command-outcome";
import { FormDialog } from "../../_components/ui/dialog";
import { Field, FieldSet, Select, toOptions } from "../../_components/ui/field";
import { formErrors } from "../../_components/ui/messages";

type Category = "patrol" | "delivery";

const LABELS: Record<string, string> = {
  category: "Task",
  fleet: "Fleet",
  places: "Places",
  rounds: "Rounds",
  "pickup.place": "Pick-up place",
  "pickup.handler": "Dispenser",
  "dropoff.place": "Drop-off place",
  "dropoff.handler": "Ingestor",
  sku: "Item",
  quantity: "Quantity",
};

/** The dispatch form: a patrol over places, or a delivery from a dispenser to an ingestor; places come from the nav graph. */
const DispatchDialog = ({ onClose, onDispatched }: { onClose: () => void; onDispatched: (command: CommandView) => void }) => {
  const trpc = useTRPC();
  const options = useQuery(trpc.robots.tasks.dispatchOptions.queryOptions());
  const dispatch = useMutation(trpc.robots.tasks.dispatch.mutationOptions());
  const [key] = useState(newIdempotencyKey);
  const [attempt, setAttempt] = useState(0);
  const [category, setCategory] = useState<Category>("delivery");
  const [fleet, setFleet] = useState("");
  const [places, setPlaces] = useState<string[]>([]);
  const [rounds, setRounds] = useState("1");
  const [pickup, setPickup] = useState({ place: "", handler: "" });
  const [dropoff, setDropoff] = useState({ place: "", handler: "" });
  const [sku, setSku] = useState("");
  const [quantity, setQuantity] = useState("1");
  const [client, setClient] = useState<Record<string, string>>({});
  const [refused, setRefused] = useState<string | null>(null);

  const o = options.data;
  const placeOptions = [{ value: "", label: "Pick a place…" }, ...(o?.places ?? []).map((p) => ({ value: p.name, label: `${p.name} (${p.level})` }))];
  const handlerOptions = (list: string[] | undefined) => [{ value: "", label: "Pick one…" }, ...toOptions(list ?? [])];
  const { byField, other } = formErrors(dispatch.error, LABELS, client);
  const errors = [...(options.error ? ["The places could not be loaded; try again."] : []), ...other, ...(refused ? [refused] : [])];

  const submit = () => {
    const own: Record<string, string> = {};
    const n = Number(rounds);
    const q = Number(quantity);
    if (category === "patrol") {
      if (places.length === 0) own.places = "Pick at least one place.";
      if (!Number.isInteger(n) || n < 1 || n > 100) own.rounds = "Use a whole number from 1 to 100.";
    } else {
      if (!pickup.place) own["pickup.place"] = "Pick a place.";
      if (!pickup.handler) own["pickup.handler"] = "Pick a dispenser.";
      if (!dropoff.place) own["dropoff.place"] = "Pick a place.";
      if (!dropoff.handler) own["dropoff.handler"] = "Pick an ingestor.";
      if (!sku.trim()) own.sku = "Name the item.";
      if (!Number.isInteger(q) || q < 1 || q > 1000) own.quantity = "Use a whole number from 1 to 1000.";
    }
    setClient(own);
    setRefused(null);
    if (Object.keys(own).length > 0) return;
    // A new attempt after a refusal is a new command; a retried request of the same attempt is not.
    const idempotencyKey = `${key}-${attempt}`;
    const input =
      category === "patrol"
        ? { category, places, rounds: n, fleet: fleet || undefined, idempotencyKey }
        : { category, pickup, dropoff, sku: sku.trim(), quantity: q, fleet: fleet || undefined, idempotencyKey };
    dispatch.mutate(input, {
      onSuccess: ({ command }) => {
        setAttempt((a) => a + 1);
        if (command.status === "accepted") onDispatched(command);
        else setRefused(describeCommand(command).text);
      },
    });
  };

  return (
    <FormDialog title="Dispatch a task" submitLabel="Dispatch" onSubmit={submit} onClose={onClose} pending={dispatch.isPending} errors={errors} testId="dispatch-dialog" submitTestId="dispatch-submit">
      <div className="form-grid">
        <Field label={LABELS.category} name="category">
          {(c) => <Select {...c} value={category} onValue={(v) => setCategory(v as Category)} options={[{ value: "delivery", label: "Delivery" }, { value: "patrol", label: "Patrol" }]} />}
        </Field>
        <Field label={LABELS.fleet} name="fleet" error={byField.fleet} hint="Leave on “Any fleet” to let RMF choose.">
          {(c) => <Select {...c} value={fleet} onValue={setFleet} options={[{ value: "", label: "Any fleet" }, ...toOptions(o?.fleets ?? [])]} />}
        </Field>
      </div>
      {category === "patrol" ? (
        <>
          <FieldSet legend={LABELS.places} name="places" error={byField.places}>
            <div className="checks">
              {(o?.places ?? []).map((p) => (
                <label key={p.name} className="check">
                  <input
                    type="checkbox"
                    checked={places.includes(p.name)}
                    onChange={(e) => setPlaces((prev) => (e.target.checked ? [...prev, p.name] : prev.filter((x) => x !== p.name)))}
                  />
                  {p.name} <span className="muted">{p.level}</span>
                </label>
              ))}
            </div>
          </FieldSet>
          <Field label={LABELS.rounds} name="rounds" error={byField.rounds}>
            {(c) => <input {...c} className="input" inputMode="numeric" value={rounds} onChange={(e) => setRounds(e.target.value)} />}
          </Field>
        </>
      ) : (
        <div className="form-grid">
          <Field label={LABELS["pickup.place"]} name="pickup-place" error={byField["pickup.place"]}>
            {(c) => <Select {...c} value={pickup.place} onValue={(place) => setPickup((p) => ({ ...p, place }))} options={placeOptions} />}
          </Field>
          <Field label={LABELS["pickup.handler"]} name="pickup-handler" error={byField["pickup.handler"]}>
            {(c) => <Select {...c} value={pickup.handler} onValue={(handler) => setPickup((p) => ({ ...p, handler }))} options={handlerOptions(o?.dispensers)} />}
          </Field>
          <Field label={LABELS["dropoff.place"]} name="dropoff-place" error={byField["dropoff.place"]}>
            {(c) => <Select {...c} value={dropoff.place} onValue={(place) => setDropoff((p) => ({ ...p, place }))} options={placeOptions} />}
          </Field>
          <Field label={LABELS["dropoff.handler"]} name="dropoff-handler" error={byField["dropoff.handler"]}>
            {(c) => <Select {...c} value={dropoff.handler} onValue={(handler) => setDropoff((p) => ({ ...p, handler }))} options={handlerOptions(o?.ingestors)} />}
          </Field>
          <Field label={LABELS.sku} name="sku" error={byField.sku}>
            {(c) => <input {...c} className="input" value={sku} onChange={(e) => setSku(e.target.value)} placeholder="e.g. coke" maxLength={100} />}
          </Field>
          <Field label={LABELS.quantity} name="quantity" error={byField.quantity}>
            {(c) => <input {...c} className="input" inputMode="numeric" value={quantity} onChange={(e) => setQuantity(e.target.value)} />}
          </Field>
        </div>
      )}
    </FormDialog>
  );
};

/** "Dispatch task" and, after a dispatch, which task it became. Render only for robots.command. */
export const DispatchButton = () => {
  const [open, setOpen] = useState(false);
  const [last, setLast] = useState<string | null>(null);
  return (
    <>
      {last ? (
        <span role="status" data-testid="dispatched">
          Dispatched <Link href={`/robots/tasks/${encodeURIComponent(last)}`} className="mono">{last}</Link>
        </span>
      ) : null}
      <button type="button" className="btn btn-primary" onClick={() => setOpen(true)} data-testid="dispatch-open">
        Dispatch task
      </button>
      {open ? (
        <DispatchDialog
          onClose={() => setOpen(false)}
          onDispatched={(command) => {
            setLast((command.result as { taskId?: string } | null)?.taskId ?? null);
            setOpen(false);
          }}
        />
      ) : null}
    </>
  );
};
