import type { Metadata } from "next";
import { OverviewView } from "./overview-view";

export const metadata: Metadata = { title: "Overview" };

const OverviewPage = () => <OverviewView />;

export default OverviewPage;
