import type { Metadata } from "next";
import { StationsView } from "./stations-view";

export const metadata: Metadata = { title: "Charging" };

// charging/layout.tsx checks charging.read.
const ChargingPage = () => <StationsView />;

export default ChargingPage;
