"use client";

import { TRPCClientError } from "@trpc/client";
import Link from "next/link";
import { useEffect } from "react";
import { errorMessage } from "./_components/ui/messages";

type Props = { error: unknown; retry?: () => void; reset?: () => void };

/** Anything a console page throws while rendering: say what happened and offer a way on. */
const ConsoleError = ({ error, retry, reset }: Props) => {
  useEffect(() => {
    console.error(error);
  }, [error]);

  const code = error instanceof TRPCClientError ? (error.data?.code as string | undefined) : undefined;
  const forbidden = code === "FORBIDDEN";
  // In words, never a permission code or a JSON dump (see ui/messages.ts).
  const message = errorMessage(error, "An unexpected error occurred.");
  const digest = error instanceof Error ? (error as Error & { digest?: string }).digest : undefined;
  const again = retry ?? reset;

  return (
    <div className="center-page" role="alert" data-testid="error-boundary">
      <div>
        <h1>{forbidden ? "You don't have access" : "Something went wrong"}</h1>
        <p className="muted" style={{ marginTop: 8 }}>
          {message}
        </p>
        {digest ? <p className="trace">Reference: {digest}</p> : null}
        <div className="actions" style={{ justifyContent: "center", marginTop: 16 }}>
          {again && !forbidden ? (
            <button type="button" className="btn btn-primary" onClick={() => again()}>
              Try again
            </button>
          ) : null}
          <Link href="/" className="btn">
            Go to overview
          </Link>
        </div>
      </div>
    </div>
  );
};

export default ConsoleError;
