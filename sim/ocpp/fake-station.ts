import type { OcppVersion } from "../../contracts/csms/mqtt";
import { createCore } from "./core";
import { createTicker } from "./demo";
import { createHandlers16 } from "./handlers16";
import { createHandlers201 } from "./handlers201";
import { createStationContext } from "./station";
import type { Params, StationSimOptions } from "./types";
import type { Wire } from "./wire";

/**
 * Tests only: a simulated station's real parts (createStationContext) on a fake wire that records
 * every CALL, answers from a table, and runs deferred side effects only when told to.
 * No socket, no gateway, no timers.
 */

type Sent = { action: string; params: Params };
export type Answers = Record<string, (params: Params) => unknown>;

/** A CSMS that accepts every token and transaction. */
export const accepted16: Answers = {
  Authorize: () => ({ idTagInfo: { status: "Accepted" } }),
  StartTransaction: () => ({ transactionId: 42, idTagInfo: { status: "Accepted" } }),
};
export const accepted201: Answers = {
  Authorize: () => ({ idTokenInfo: { status: "Accepted" } }),
  TransactionEvent: () => ({}),
};

export const fakeStation = (protocol: OcppVersion, answers: Answers = {}, opts: Partial<StationSimOptions> = {}) => {
  const core = createCore({
    id: "T1",
    url: "ws://unused",
    protocol,
    connectors: 2,
    seed: 7,
    kind: "AC22",
    rebootDelayMs: [0, 0],
    scheduler: { add: () => () => {}, tickMs: 50, stop: () => {} },
    ...opts,
  });
  core.link.connected = true;
  core.link.bootStatus = "Accepted";
  core.link.needBoot = false;
  const sent: Sent[] = [];
  const deferred: (() => unknown)[] = [];
  const reconnects: number[] = [];
  const send = async (action: string, params: Params) => {
    sent.push({ action, params });
    return answers[action]?.(params);
  };
  const wire = {
    client: {
      on: () => {},
      handle: () => {},
      close: async () => {},
      connect: async () => void reconnects.push(Date.now()),
    },
    sleep: async () => {},
    wakeSleepers: () => {},
    canSend: () => core.link.connected && core.link.bootStatus === "Accepted",
    call: send,
    txCall: send,
    txQueue: { flush: async () => {}, size: () => 0, sentLater: () => 0 },
    later: (fn: () => unknown) => void deferred.push(fn),
  } as unknown as Wire;
  const ctx = createStationContext(core, wire);
  const tick = createTicker(ctx);
  const handlers = protocol === "ocpp1.6" ? createHandlers16(ctx) : createHandlers201(ctx);
  /** Runs the deferred side effects (and the ones they defer) until none are left. */
  const settle = async () => {
    while (deferred.length) await deferred.shift()!();
  };
  const command = async (action: string, params: Params = {}) => {
    const handler = handlers[action];
    if (!handler) throw new Error(`no handler for ${action}`);
    return handler(params);
  };
  const actions = () => sent.map((s) => s.action);
  const last = (action: string) => sent.filter((s) => s.action === action).at(-1)?.params;
  return { ctx, sent, command, settle, actions, last, reconnects, tick };
};
