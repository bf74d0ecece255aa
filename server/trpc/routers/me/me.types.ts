import "server-only";
import { z } from "zod";
import { PERMISSIONS, ROLES } from "../../../../contracts/console/permissions";

/** The signed-in user and what their role allows (drives the navigation). */
export const ZGetMeResponseSchema = z.object({
  id: z.string(),
  email: z.string(),
  name: z.string(),
  role: z.enum(ROLES),
  participantId: z.string().nullable(),
  regions: z.array(z.string()),
  permissions: z.array(z.enum(PERMISSIONS)),
});

/** What the sign-in page offers. */
export const ZGetSignInOptionsResponseSchema = z.object({ oidc: z.object({ name: z.string() }).nullable() });
