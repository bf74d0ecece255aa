import { NextResponse, type NextRequest } from "next/server";

const PUBLIC = ["/login", "/_next", "/favicon"];

/**
 * A fast first gate: pages without a session cookie go to sign-in with their path kept.
 * The console layout and every tRPC procedure still check the session properly.
 *
 * It never runs for /api/* or /metrics (see `config`): for a request with a body that
 * proxy.ts matches, `next start` buffers the whole body (up to 10 MB, then silently cut)
 * before the route handler runs, which would defeat the body cap of /api/trpc and
 * /api/auth (server/http/guard-request.ts). Those check their own sessions anyway.
 */
export function proxy(request: NextRequest) {
  const { pathname, search } = request.nextUrl;
  const headers = new Headers(request.headers);
  headers.set("x-pathname", pathname + search);
  if (PUBLIC.some((p) => pathname.startsWith(p))) return NextResponse.next({ request: { headers } });
  const hasSession = request.cookies.getAll().some((c) => c.name.endsWith("switchyard.session_token"));
  if (!hasSession) {
    const url = request.nextUrl.clone();
    url.pathname = "/login";
    url.search = `?next=${encodeURIComponent(pathname + search)}`;
    return NextResponse.redirect(url);
  }
  return NextResponse.next({ request: { headers } });
}

export const config = { matcher: ["/((?!api/|metrics|_next/static|_next/image|favicon.ico).*)"] };
