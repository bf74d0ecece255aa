import "server-only";
import { z } from "zod";
import { unlockSignIn } from "../../../auth/unlock-sign-in";
import { procedure } from "../../init";

export const ZUnlockSignInRequest = z.object({ userId: z.uuid() });
export const ZUnlockSignInResponse = z.object({ userId: z.string(), cleared: z.number().int().min(0) });

/** `admin.users.unlockSignIn`: ends a user's sign-in throttling from every address (audited like every mutation). */
export const unlockSignInProcedure = procedure("admin.users.write", { auditTarget: (i) => (i as { userId?: string } | undefined)?.userId })
  .input(ZUnlockSignInRequest)
  .output(ZUnlockSignInResponse)
  .mutation(({ ctx, input }) => unlockSignIn(ctx.db, input));
