import type { Metadata } from "next";
import { SitesView } from "./sites-view";

export const metadata: Metadata = { title: "Monitoring" };

// monitoring/layout.tsx checks monitoring.read.
const MonitoringPage = () => <SitesView />;

export default MonitoringPage;
