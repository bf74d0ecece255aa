import type { Metadata } from "next";
import { Suspense } from "react";
import { TransactionsView } from "./transactions-view";

export const metadata: Metadata = { title: "Transactions" };

const TransactionsPage = () => (
  <Suspense>
    <TransactionsView />
  </Suspense>
);

export default TransactionsPage;
