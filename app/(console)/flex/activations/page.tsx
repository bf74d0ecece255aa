import type { Metadata } from "next";
import { ActivationsView } from "./activations-view";

export const metadata: Metadata = { title: "Flex activations" };

// flex/layout.tsx checks flex.read.
const FlexActivationsPage = () => <ActivationsView />;

export default FlexActivationsPage;
