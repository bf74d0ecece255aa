import type { Metadata } from "next";
import { EvChargersView } from "./ev-chargers-view";

export const metadata: Metadata = { title: "Flex EV chargers" };

// flex/layout.tsx checks flex.read.
const FlexEvChargersPage = () => <EvChargersView />;

export default FlexEvChargersPage;
