import type { Metadata } from "next";
import { AlarmsView } from "./alarms-view";

export const metadata: Metadata = { title: "Alarms" };

// monitoring/layout.tsx checks monitoring.read.
const AlarmsPage = () => <AlarmsView />;

export default AlarmsPage;
