"use client";

import { useQuery } from "@tanstack/react-query";
import { useState, type FormEvent } from "react";
import { authClient, safeNext } from "@/app/_auth/client";
import { useTRPC } from "@/app/_trpc/client";
import { Field } from "../../(console)/_components/ui/field";

type Props = { next: string | null; expired: boolean; oauthError: string | null };

type AuthFailure = { message?: string; status?: number; code?: string } | null | undefined;

/** What to tell the user for a failed sign-in; the server's own words win when it has them. */
const describe = (error: AuthFailure): string => {
  if (!error) return "Sign-in failed. Try again.";
  if (error.status === 429) return error.message || "Too many sign-in attempts. Wait a few minutes and try again.";
  if (error.status === 403) return error.message || "This account is disabled.";
  if (error.status === 401 || error.code === "INVALID_EMAIL_OR_PASSWORD") return "Wrong email or password.";
  return error.message || "Sign-in failed. Try again.";
};

export const LoginForm = ({ next, expired, oauthError }: Props) => {
  const trpc = useTRPC();
  const options = useQuery(trpc.me.signInOptions.queryOptions(undefined, { staleTime: Infinity }));
  const [email, setEmail] = useState("");
  const [password, setPassword] = useState("");
  const [busy, setBusy] = useState<"password" | "oidc" | null>(null);
  const [error, setError] = useState<string | null>(oauthError ? "Single sign-on did not complete. Try again or use your password." : null);
  const target = safeNext(next);

  const onSubmit = async (event: FormEvent<HTMLFormElement>) => {
    event.preventDefault();
    if (busy) return;
    if (!email.trim() || !password) {
      setError("Enter your email and password.");
      return;
    }
    setBusy("password");
    setError(null);
    try {
      const { error: failure } = await authClient().signIn.email({ email: email.trim(), password });
      if (failure) {
        setError(describe(failure));
        setBusy(null);
        return;
      }
      window.location.assign(target);
    } catch {
      setError("Could not reach the server. Check your connection and try again.");
      setBusy(null);
    }
  };

  const onOidc = async () => {
    setBusy("oidc");
    setError(null);
    try {
      const { error: failure } = await authClient().signIn.social({ provider: "oidc", callbackURL: target, errorCallbackURL: "/login?error=oidc" });
      if (failure) {
        setError(describe(failure));
        setBusy(null);
      }
    } catch {
      setError("Could not start single sign-on. Try again.");
      setBusy(null);
    }
  };

  const oidc = options.data?.oidc;

  return (
    <div className="auth-card">
      <div className="brand">
        <span className="brand-mark" aria-hidden="true" />
        Switchyard
      </div>
      <h1>Sign in</h1>
      <p className="muted">Operator console for charging, robots, flex and monitoring.</p>

      {expired && !error ? (
        <div className="alert alert-warn" role="status" data-testid="session-expired">
          <p>Your session expired — sign in again.</p>
        </div>
      ) : null}
      {error ? (
        <div className="alert alert-error" role="alert" data-testid="login-error">
          <p>{error}</p>
        </div>
      ) : null}

      <form onSubmit={onSubmit} noValidate aria-busy={busy === "password"}>
        <Field label="Email">
          {(c) => (
            <input {...c} name="email" type="email" className="input" autoComplete="username" autoFocus required value={email} onChange={(e) => setEmail(e.target.value)} />
          )}
        </Field>
        <Field label="Password">
          {(c) => (
            <input {...c} name="password" type="password" className="input" autoComplete="current-password" required value={password} onChange={(e) => setPassword(e.target.value)} />
          )}
        </Field>
        <button type="submit" className="btn btn-primary btn-block" disabled={busy !== null} data-testid="login-submit">
          {busy === "password" ? (
            <>
              <span className="spinner" aria-hidden="true" /> Signing in…
            </>
          ) : (
            "Sign in"
          )}
        </button>
      </form>

      {oidc ? (
        <>
          <div className="divider">or</div>
          <button type="button" className="btn btn-block" onClick={onOidc} disabled={busy !== null} data-testid="login-oidc">
            {busy === "oidc" ? <span className="spinner" aria-hidden="true" /> : null}
            Sign in with {oidc.name}
          </button>
        </>
      ) : null}
    </div>
  );
};
