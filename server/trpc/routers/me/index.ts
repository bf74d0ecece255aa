import "server-only";
import { oidcEnabled } from "../../../auth/auth";
import { permissionsOf } from "../../../../contracts/console/permissions";
import { env } from "../../../env";
import { procedure, requireUser, router } from "../../init";

export const meRouter = router({
  /** The signed-in user and what their role allows (drives the navigation). */
  get: procedure("session").query(({ ctx }) => {
    const user = requireUser(ctx);
    return { ...user, permissions: permissionsOf(user.role) };
  }),
  /** What the sign-in page offers. */
  signInOptions: procedure("public").query(() => {
    const e = env();
    return { oidc: oidcEnabled(e) ? { name: e.OIDC_DISPLAY_NAME } : null };
  }),
});
