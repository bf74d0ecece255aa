import type { SiteModule } from "./module";
import { csmsModule } from "./modules/csms";
import { flexModule } from "./modules/flex";
import { monitoringModule } from "./modules/monitoring";
import { rmfSiteModule } from "./modules/rmf";

/**
 * The domains the embedded site runs, started in this order. A new domain plugs into
 * `npm start` by adding its module here: its settings, broker accounts and ACL, secrets and
 * the console's settings all come from the module itself.
 */
export const siteModules: SiteModule[] = [csmsModule, rmfSiteModule, flexModule, monitoringModule];
