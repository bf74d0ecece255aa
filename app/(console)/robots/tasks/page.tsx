import type { Metadata } from "next";
import { TasksView } from "./tasks-view";

export const metadata: Metadata = { title: "Robot tasks" };

// robots/layout.tsx checks robots.read.
const TasksPage = () => <TasksView />;

export default TasksPage;
