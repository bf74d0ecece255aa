import { db } from "@/server/db";
import { checkReadiness } from "@/server/health-check";

export const dynamic = "force-dynamic";

export const GET = async () => {
  const report = await checkReadiness(db());
  return Response.json(report, { status: report.status === "down" ? 503 : 200, headers: { "cache-control": "no-store" } });
};
