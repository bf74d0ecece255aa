import type { Metadata } from "next";
import { TokensView } from "./tokens-view";

export const metadata: Metadata = { title: "Tokens" };

// charging/layout.tsx checks charging.read.
const TokensPage = () => <TokensView />;

export default TokensPage;
