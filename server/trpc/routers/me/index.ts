import "server-only";
import { oidcEnabled } from "../../../auth/auth";
import { permissionsOf } from "../../../../contracts/console/permissions";
import { env } from "../../../env";
import { procedure, router } from "../../init";
import { ZGetMeResponseSchema, ZGetSignInOptionsResponseSchema } from "./me.types";

export const meRouter = router({
  /** The signed-in user and what their role allows (drives the navigation). */
  get: procedure("session")
    .output(ZGetMeResponseSchema)
    .query(({ ctx }) => ({ ...ctx.user, permissions: permissionsOf(ctx.user.role) })),
  /** What the sign-in page offers. */
  signInOptions: procedure("public")
    .output(ZGetSignInOptionsResponseSchema)
    .query(() => {
      const e = env();
      return { oidc: oidcEnabled(e) ? { name: e.OIDC_DISPLAY_NAME } : null };
    }),
});
