import type { Metadata } from "next";
import { MarketView } from "./market-view";

export const metadata: Metadata = { title: "Flex market" };

// flex/layout.tsx checks flex.read.
const FlexPage = () => <MarketView />;

export default FlexPage;
