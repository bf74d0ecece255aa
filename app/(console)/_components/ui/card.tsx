import type { ReactNode } from "react";

/** A titled card (`.card` with its head and body), optionally a labelled section of its own. */
export const Card = ({ title, children, section = false, className }: { title: ReactNode; children: ReactNode; section?: boolean; className?: string }) => {
  const body = (
    <>
      <div className="card-head">
        <h2>{title}</h2>
      </div>
      <div className="card-body">{children}</div>
    </>
  );
  return section ? (
    <section className={`section card ${className ?? ""}`} aria-label={typeof title === "string" ? title : undefined}>
      {body}
    </section>
  ) : (
    <div className={`card ${className ?? ""}`}>{body}</div>
  );
};
