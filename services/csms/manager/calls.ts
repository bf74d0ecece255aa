import { STATION_ACTIONS, type OcppVersion } from "../../../contracts/csms/mqtt";
import { createBootCalls } from "./calls-boot";
import { createOtherCalls } from "./calls-other";
import { createTx16Calls } from "./calls-tx16";
import { createTx201Calls } from "./calls-tx201";
import type { Req, StationState } from "./context";
import type { CallStation } from "./dispatch";
import { CallRefused } from "./input";
import type { CallDeps, CallHandlers } from "./transactions";

/** The station CALLs, one file per message family: action → handler. */
export const createCalls = (deps: CallDeps, { callStation }: { callStation: CallStation }) => {
  const tx201 = createTx201Calls(deps, { callStation });
  const other = createOtherCalls(deps);
  const handlers: CallHandlers = {
    ...createBootCalls(deps),
    Authorize: (version, _st, r) => deps.tokens.onAuthorize(version, r),
    ...createTx16Calls(deps),
    ...tx201.handlers,
    ...other.handlers,
  };

  const handleCall = async (version: OcppVersion, st: StationState, action: string, r: Req): Promise<Req> => {
    const handler = Object.hasOwn(handlers, action) ? handlers[action] : undefined;
    if (handler) return handler(version, st, r, new Date());
    // The gateway passes only actions OCPP defines for this version: recognised, just not supported here.
    if ((STATION_ACTIONS[version] as readonly string[]).includes(action)) throw new CallRefused("NotSupported", `${action} is not supported by this CSMS`, "unsupported");
    throw new CallRefused("NotImplemented", `${action} is not an OCPP ${version} action`, "unknown_action");
  };

  return { handleCall, applyResult: other.applyResult, checkOpenTransactions: tx201.checkOpenTransactions };
};
