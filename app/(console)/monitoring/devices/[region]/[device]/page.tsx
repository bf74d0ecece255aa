import type { Metadata } from "next";
import { DevicePage } from "./device-view";

type Props = { params: Promise<{ region: string; device: string }> };

export const generateMetadata = async ({ params }: Props): Promise<Metadata> => ({ title: `Device ${decodeURIComponent((await params).device)}` });

// monitoring/layout.tsx checks monitoring.read; the routers check the region.
const Page = async ({ params }: Props) => {
  const { region, device } = await params;
  return <DevicePage region={decodeURIComponent(region)} deviceId={decodeURIComponent(device)} />;
};

export default Page;
