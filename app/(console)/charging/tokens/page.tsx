import type { Metadata } from "next";
import { TokensView } from "./tokens-view";

export const metadata: Metadata = { title: "Tokens" };

const TokensPage = () => <TokensView />;

export default TokensPage;
