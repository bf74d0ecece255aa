"use client";

import { useMutation } from "@tanstack/react-query";
import { useTRPC } from "@/app/_trpc/client";
import type { DoorView, LiftView } from "@/server/connectors/rmf";
import { CommandButton } from "../../_components/ui/command-button";

/** Open and close one door (robots.command); the door's colour on the map follows its state. */
export const DoorControls = ({ door }: { door: DoorView }) => {
  const trpc = useTRPC();
  const request = useMutation(trpc.robots.doors.request.mutationOptions());
  const mode = door.state?.current_mode.value;
  return (
    <span className="actions">
      <CommandButton
        id={`door-open-${door.name}`}
        label="Open"
        disabled={mode === 2}
        layout="inline"
        submit={(idempotencyKey) => request.mutateAsync({ door: door.name, mode: "open", idempotencyKey })}
      />
      <CommandButton
        id={`door-close-${door.name}`}
        label="Close"
        disabled={mode === 0}
        layout="inline"
        submit={(idempotencyKey) => request.mutateAsync({ door: door.name, mode: "close", idempotencyKey })}
      />
    </span>
  );
};

/** Calls a lift to each floor it serves but the one it is at. */
export const LiftControls = ({ lift }: { lift: LiftView }) => {
  const trpc = useTRPC();
  const request = useMutation(trpc.robots.lifts.request.mutationOptions());
  const floors = lift.state?.available_floors ?? lift.definition?.levels ?? [];
  return (
    <span className="actions">
      {floors.map((floor) => (
        <CommandButton
          key={floor}
          id={`lift-${lift.name}-${floor}`}
          label={`Call to ${floor}`}
          disabled={lift.state?.current_floor === floor && lift.state.destination_floor === floor}
          layout="inline"
          submit={(idempotencyKey) => request.mutateAsync({ lift: lift.name, destination: floor, doorMode: "open", idempotencyKey })}
        />
      ))}
    </span>
  );
};
