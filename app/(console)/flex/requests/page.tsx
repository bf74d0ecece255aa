import type { Metadata } from "next";
import { RequestsView } from "./requests-view";

export const metadata: Metadata = { title: "Flex requests" };

// flex/layout.tsx checks flex.read.
const FlexRequestsPage = () => <RequestsView />;

export default FlexRequestsPage;
