import type { Metadata } from "next";
import Link from "next/link";

export const metadata: Metadata = { title: "Not found" };

const NotFound = () => (
  <main className="auth-page">
    <div className="auth-card" style={{ textAlign: "center" }} data-testid="not-found">
      <div className="center-page" style={{ minHeight: 0 }}>
        <div>
          <div className="code">404</div>
          <h1>Page not found</h1>
          <p className="muted" style={{ marginTop: 8 }}>
            There is nothing at this address. It may have moved, or the link may be wrong.
          </p>
          <Link href="/" className="btn btn-primary" style={{ marginTop: 12 }}>
            Go to the console
          </Link>
        </div>
      </div>
    </div>
  </main>
);

export default NotFound;
