import "server-only";
import { z } from "zod";
import { createUser, listUsers, resetPassword, setUserDisabled, updateUser } from "../../../admin/users";
import { ROLES } from "../../../../contracts/console/permissions";
import { env } from "../../../env";
import { procedure, requireUser, router } from "../../init";
import { unlockSignInProcedure } from "./unlock-sign-in";

const ZPassword = z.string().min(10, "at least 10 characters").max(128, "at most 128 characters");
const ZUserFields = z.object({
  name: z.string().trim().min(1, "required").max(120),
  role: z.enum(ROLES),
  participantId: z.string().trim().max(64).nullish().transform((v) => v || null),
  regions: z.array(z.string().trim().min(1).max(64)).max(32).default([]),
});
const ZUserId = z.object({ id: z.uuid() });
const byId = (input: unknown) => (input as { id?: string } | undefined)?.id;

export const adminRouter = router({
  users: router({
    list: procedure("admin.users.read")
      .input(z.object({ search: z.string().trim().max(200).optional(), role: z.enum(ROLES).optional(), cursor: z.string().nullish(), limit: z.number().int().min(1).max(200).default(50) }))
      .query(({ ctx, input }) => listUsers(ctx.db, input)),

    create: procedure("admin.users.write", { auditTarget: (i) => (i as { email?: string })?.email })
      .input(ZUserFields.extend({ email: z.email("not a valid email address").max(200), password: ZPassword.optional() }))
      .mutation(({ ctx, input }) => createUser(ctx.db, input, env().MONITORING_REGIONS)),

    update: procedure("admin.users.write", { auditTarget: byId })
      .input(ZUserFields.extend(ZUserId.shape))
      .mutation(({ ctx, input: { id, ...fields } }) => updateUser(ctx.db, id, fields, env().MONITORING_REGIONS)),

    setDisabled: procedure("admin.users.write", { auditTarget: byId })
      .input(ZUserId.extend({ disabled: z.boolean() }))
      .mutation(({ ctx, input }) => setUserDisabled(ctx.db, { ...input, actorId: requireUser(ctx).id })),

    resetPassword: procedure("admin.users.write", { auditTarget: byId })
      .input(ZUserId.extend({ password: ZPassword.optional() }))
      .mutation(({ ctx, input }) => resetPassword(ctx.db, input)),

    unlockSignIn: unlockSignInProcedure,
  }),

  participants: procedure("admin.users.read").query(({ ctx }) => ctx.db.participant.findMany({ orderBy: { id: "asc" } })),
  regions: procedure("admin.users.read").query(() => env().MONITORING_REGIONS),
});
