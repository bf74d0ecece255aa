import type { Metadata } from "next";
import { TransactionsView } from "./transactions-view";

export const metadata: Metadata = { title: "Transactions" };

// charging/layout.tsx checks charging.read.
const TransactionsPage = () => <TransactionsView />;

export default TransactionsPage;
