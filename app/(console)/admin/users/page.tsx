import type { Metadata } from "next";
import { UsersView } from "./users-view";

export const metadata: Metadata = { title: "Users" };

const UsersPage = () => <UsersView />;

export default UsersPage;
