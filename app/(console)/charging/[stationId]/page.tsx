import type { Metadata } from "next";
import { StationPage } from "./station-view";

type Props = { params: Promise<{ stationId: string }> };

export const generateMetadata = async ({ params }: Props): Promise<Metadata> => ({ title: `Station ${decodeURIComponent((await params).stationId)}` });

// charging/layout.tsx checks charging.read.
const Page = async ({ params }: Props) => <StationPage stationId={decodeURIComponent((await params).stationId)} />;

export default Page;
