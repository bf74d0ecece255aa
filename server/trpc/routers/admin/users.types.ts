import "server-only";
import { z } from "zod";
import { ROLES } from "../../../../contracts/console/permissions";
import { ZLookupId, zLimit } from "../common.types";

const ZPassword = z.string().min(10, "at least 10 characters").max(128, "at most 128 characters");
const ZUserFields = z.object({
  name: z.string().trim().min(1, "required").max(120),
  role: z.enum(ROLES),
  participantId: z.string().trim().max(64).nullish().transform((v) => v || null),
  regions: z.array(z.string().trim().min(1).max(64)).max(32).default([]),
});
// A malformed id is answered like an unknown one: NOT_FOUND (server/admin/users.ts).
const ZUserId = z.object({ id: ZLookupId });

/** A user as the admin pages show it (server/admin/users.ts `userSelect`). */
export const ZUserView = z.object({
  id: z.string(),
  name: z.string(),
  email: z.string(),
  role: z.string(),
  participantId: z.string().nullable(),
  regions: z.array(z.string()),
  disabled: z.boolean(),
  createdAt: z.date(),
  updatedAt: z.date(),
});

export const ZListUsersRequestSchema = z.object({ search: z.string().trim().max(200).optional(), role: z.enum(ROLES).optional(), cursor: z.string().nullish(), limit: zLimit(200) });
export const ZListUsersResponseSchema = z.object({ items: z.array(ZUserView), nextCursor: z.string().nullable(), total: z.number().int().min(0) });

export const ZCreateUserRequestSchema = ZUserFields.extend({ email: z.email("not a valid email address").max(200), password: ZPassword.optional() });
/** `generatedPassword` is shown once, when the admin did not choose one. */
export const ZCreateUserResponseSchema = z.object({ user: ZUserView, generatedPassword: z.string().nullable() });

export const ZUpdateUserRequestSchema = ZUserFields.extend(ZUserId.shape);
export const ZUpdateUserResponseSchema = ZUserView;

export const ZSetUserDisabledRequestSchema = ZUserId.extend({ disabled: z.boolean() });
export const ZSetUserDisabledResponseSchema = ZUserView;

export const ZResetPasswordRequestSchema = ZUserId.extend({ password: ZPassword.optional() });
export const ZResetPasswordResponseSchema = z.object({ generatedPassword: z.string().nullable() });
