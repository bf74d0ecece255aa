"use client";

import { useState, type ReactNode } from "react";

type PageHeaderProps = {
  title: ReactNode;
  description?: ReactNode;
  /** Live indicators, secondary buttons. */
  actions?: ReactNode;
  /** The page's main action ("New user"), last on the right. */
  primary?: { label: string; onClick: () => void; testId?: string };
  titleClassName?: string;
  titleTestId?: string;
};

/** A page's title, what it is for, and its actions on the right. */
export const PageHeader = ({ title, description, actions, primary, titleClassName, titleTestId }: PageHeaderProps) => (
  <div className="page-header">
    <div>
      <h1 className={titleClassName} data-testid={titleTestId}>
        {title}
      </h1>
      {description ? <p>{description}</p> : null}
    </div>
    {actions || primary ? (
      <div className="actions">
        {actions}
        {primary ? (
          <button type="button" className="btn btn-primary" onClick={primary.onClick} data-testid={primary.testId}>
            {primary.label}
          </button>
        ) : null}
      </div>
    ) : null}
  </div>
);

/**
 * What the last change did ("Created ana@example.com."), announced politely and dismissible.
 * `useNotice()` gives the message and its setter; `<Notice notice={…} />` shows it.
 */
export const useNotice = () => {
  const [message, setMessage] = useState<string | null>(null);
  return { message, show: setMessage, dismiss: () => setMessage(null) };
};

export const Notice = ({ notice, testId }: { notice: ReturnType<typeof useNotice>; testId?: string }) => (
  <div role="status" aria-live="polite">
    {notice.message ? (
      <div className="alert alert-ok" data-testid={testId}>
        <p style={{ flex: 1 }}>{notice.message}</p>
        <button type="button" className="btn btn-ghost btn-sm" onClick={notice.dismiss}>
          Dismiss
        </button>
      </div>
    ) : null}
  </div>
);
