import type { Metadata } from "next";
import { SettlementsView } from "./settlements-view";

export const metadata: Metadata = { title: "Flex settlements" };

// flex/layout.tsx checks flex.read.
const FlexSettlementsPage = () => <SettlementsView />;

export default FlexSettlementsPage;
