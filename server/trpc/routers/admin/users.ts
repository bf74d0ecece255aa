import "server-only";
import { createUser, listUsers, resetPassword, setUserDisabled, updateUser } from "../../../admin/users";
import { env } from "../../../env";
import { procedure, router } from "../../init";
import {
  ZCreateUserRequestSchema,
  ZCreateUserResponseSchema,
  ZListUsersRequestSchema,
  ZListUsersResponseSchema,
  ZResetPasswordRequestSchema,
  ZResetPasswordResponseSchema,
  ZSetUserDisabledRequestSchema,
  ZSetUserDisabledResponseSchema,
  ZUpdateUserRequestSchema,
  ZUpdateUserResponseSchema,
} from "./users.types";
import { unlockSignInProcedure } from "./unlock-sign-in";

const byId = (input: unknown) => (input as { id?: string } | undefined)?.id;

export const usersRouter = router({
  list: procedure("admin.users.read")
    .input(ZListUsersRequestSchema)
    .output(ZListUsersResponseSchema)
    .query(({ ctx, input }) => listUsers(ctx.db, input)),

  create: procedure("admin.users.write", { auditTarget: (i) => (i as { email?: string })?.email })
    .input(ZCreateUserRequestSchema)
    .output(ZCreateUserResponseSchema)
    .mutation(({ ctx, input }) => createUser(ctx.db, input, env().MONITORING_REGIONS)),

  update: procedure("admin.users.write", { auditTarget: byId })
    .input(ZUpdateUserRequestSchema)
    .output(ZUpdateUserResponseSchema)
    .mutation(({ ctx, input: { id, ...fields } }) => updateUser(ctx.db, id, fields, env().MONITORING_REGIONS)),

  setDisabled: procedure("admin.users.write", { auditTarget: byId })
    .input(ZSetUserDisabledRequestSchema)
    .output(ZSetUserDisabledResponseSchema)
    .mutation(({ ctx, input }) => setUserDisabled(ctx.db, { ...input, actorId: ctx.user.id })),

  resetPassword: procedure("admin.users.write", { auditTarget: byId })
    .input(ZResetPasswordRequestSchema)
    .output(ZResetPasswordResponseSchema)
    .mutation(({ ctx, input }) => resetPassword(ctx.db, input)),

  unlockSignIn: unlockSignInProcedure,
});
