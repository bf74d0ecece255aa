import "server-only";
import { z } from "zod";
import { ROBOT_STATUSES } from "../../../../contracts/rmf";
import { ZLiveInput } from "../../live-procedure";

/** Robots on the map and in the table; `fleet` narrows the stream to one fleet. */
export const ZOnRobotsRequestSchema = ZLiveInput.extend({ fleet: z.string().max(256).optional(), status: z.enum(ROBOT_STATUSES).optional() }).optional();
