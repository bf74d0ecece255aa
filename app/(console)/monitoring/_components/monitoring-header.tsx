"use client";

import Link from "next/link";
import type { ReactNode } from "react";
import { LiveIndicator } from "../../_components/badges";
import type { LiveState } from "../../_components/ui/live-feed";
import { errorMessage } from "../../_components/ui/messages";
import { PageHeader } from "../../_components/ui/page-header";
import { MonitoringLinkAlert, MonitoringLinkBadge } from "./monitoring-badges";
import { MonitoringNav } from "./monitoring-nav";

type MonitoringHeaderProps = { title: string; description?: ReactNode; live?: LiveState; titleTestId?: string; titleClassName?: string };

/** Every monitoring page's top: title, the service link and the live feed's state, the tabs, and what the link is doing if it is not simply up. */
export const MonitoringHeader = ({ title, description, live, titleTestId, titleClassName }: MonitoringHeaderProps) => (
  <>
    <PageHeader
      title={title}
      description={description}
      titleTestId={titleTestId}
      titleClassName={titleClassName}
      actions={
        <span className="status-line">
          <MonitoringLinkBadge />
          {live ? <LiveIndicator state={live} /> : null}
        </span>
      }
    />
    <MonitoringNav />
    <MonitoringLinkAlert />
  </>
);

type MissingProps = { title: string; titleClassName?: string; noun: string; error: { data?: { code?: string } | null } | null; notFound: string; testId: string };

/**
 * A site or device page before its data is there: loading, or why not. NOT_FOUND (unknown,
 * or in a region the user may not see: the server does not tell them apart) in the
 * sentence `notFound`; anything else in words.
 */
export const MonitoringMissing = ({ title, titleClassName, noun, error, notFound, testId }: MissingProps) => (
  <>
    <MonitoringHeader title={title} titleClassName={titleClassName} />
    {error ? (
      <div className="alert alert-error" role="alert" data-testid={testId}>
        <p style={{ flex: 1 }}>{error.data?.code === "NOT_FOUND" ? notFound : errorMessage(error)}</p>
      </div>
    ) : (
      <div className="empty" role="status">
        Loading {noun}…
      </div>
    )}
    <Link href="/monitoring">Back to sites</Link>
  </>
);
