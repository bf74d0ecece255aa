"use client";

import { useState } from "react";
import type { CommandView } from "@/contracts/console/commands";
import { describeCommand } from "../../_components/ui/command-outcome";

/**
 * Flex actions answer with their command once the node has decided: accepted, or refused
 * with the node's reason. A form keeps the refusal on screen (above its fields) and closes
 * only on acceptance.
 */
export const useNodeVerdict = () => {
  const [refused, setRefused] = useState<string | null>(null);
  return {
    refused: refused ? [refused] : [],
    clear: () => setRefused(null),
    /** The mutation's onSuccess: `accepted` runs `ok`, anything else is kept as the refusal. */
    onSuccess:
      (ok: () => void) =>
      ({ command }: { command: CommandView }) => {
        if (command.status === "accepted") ok();
        else setRefused(describeCommand(command).text);
      },
  };
};

/** Checks numeric text fields before sending: field → sentence, for `formErrors`' client part. */
export const numberChecks = (fields: Record<string, { text: string; required?: boolean; min?: number; max?: number; maxText?: string }>) => {
  const out: Record<string, string> = {};
  for (const [name, { text, required = false, min = 0, max, maxText }] of Object.entries(fields)) {
    if (text.trim() === "") {
      if (required) out[name] = "Required.";
      continue;
    }
    const n = Number(text);
    if (!Number.isFinite(n) || n < min) out[name] = `Enter a number of at least ${min}.`;
    else if (max !== undefined && n > max) out[name] = maxText ?? `At most ${max}.`;
  }
  return out;
};
