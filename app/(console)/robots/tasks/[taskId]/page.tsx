import type { Metadata } from "next";
import { TaskView } from "./task-view";

export const metadata: Metadata = { title: "Robot task" };

// robots/layout.tsx checks robots.read.
const TaskPage = async ({ params }: { params: Promise<{ taskId: string }> }) => <TaskView taskId={decodeURIComponent((await params).taskId)} />;

export default TaskPage;
