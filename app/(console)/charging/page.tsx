import type { Metadata } from "next";
import { StationsView } from "./stations-view";

export const metadata: Metadata = { title: "Charging" };

const ChargingPage = () => <StationsView />;

export default ChargingPage;
