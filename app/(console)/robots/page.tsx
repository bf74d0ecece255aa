import type { Metadata } from "next";
import { RobotsView } from "./robots-view";

export const metadata: Metadata = { title: "Robots" };

// robots/layout.tsx checks robots.read.
const RobotsPage = () => <RobotsView />;

export default RobotsPage;
