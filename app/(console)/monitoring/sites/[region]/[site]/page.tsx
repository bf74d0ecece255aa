import type { Metadata } from "next";
import { SitePage } from "./site-view";

type Props = { params: Promise<{ region: string; site: string }> };

export const generateMetadata = async ({ params }: Props): Promise<Metadata> => ({ title: `Site ${decodeURIComponent((await params).site)}` });

// monitoring/layout.tsx checks monitoring.read; the routers check the region.
const Page = async ({ params }: Props) => {
  const { region, site } = await params;
  return <SitePage region={decodeURIComponent(region)} siteId={decodeURIComponent(site)} />;
};

export default Page;
